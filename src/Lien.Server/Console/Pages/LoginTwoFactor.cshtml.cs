using Lien.Server.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lien.Server.Console.Pages;

internal sealed class LoginTwoFactorModel(SignInManager<ConsoleUser> signIn, LienDb db) : PageModel
{
    public string? Problem { get; private set; }
    public string ReturnUrl { get; private set; } = "/console";

    public async Task<IActionResult> OnGetAsync(string? returnUrl)
    {
        ReturnUrl = ConsolePaths.Local(returnUrl);
        return await signIn.GetTwoFactorAuthenticationUserAsync() is null ? RedirectToPage("/Login") : Page();
    }

    public async Task<IActionResult> OnPostAsync(string? code, string? returnUrl)
    {
        ReturnUrl = ConsolePaths.Local(returnUrl);
        if (await signIn.GetTwoFactorAuthenticationUserAsync() is null) return RedirectToPage("/Login");
        var text = new string((code ?? "").Where(c => !char.IsWhiteSpace(c) && c != '-').ToArray());
        if (text.Length is 0 or > 20 || !text.All(char.IsAsciiLetterOrDigit))
        {
            Problem = "Enter the code from your authenticator app.";
            return Page();
        }
        var result = await db.InTransactionAsync(() => text.Length == 6 && text.All(char.IsAsciiDigit)
            ? signIn.TwoFactorAuthenticatorSignInAsync(text, isPersistent: false, rememberClient: false)
            : signIn.TwoFactorRecoveryCodeSignInAsync(text));
        if (result.Succeeded) return LocalRedirect(ReturnUrl);
        Problem = result.IsLockedOut ? "Too many failed attempts: this account is locked for 15 minutes." : "That code is not valid.";
        return Page();
    }
}
