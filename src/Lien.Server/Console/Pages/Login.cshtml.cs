using Lien.Server.Api;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lien.Server.Console.Pages;

internal sealed class LoginModel(SignInManager<ConsoleUser> signIn, LienDb db) : PageModel
{
    public string? Problem { get; private set; }
    public string? UserName { get; private set; }
    public string ReturnUrl { get; private set; } = "/console";

    public void OnGet(string? returnUrl) => ReturnUrl = ConsolePaths.Local(returnUrl);

    public async Task<IActionResult> OnPostAsync(string? userName, string? password, string? returnUrl)
    {
        ReturnUrl = ConsolePaths.Local(returnUrl);
        UserName = userName;
        if (new Errors().Text(userName, "userName", 100, required: true).Text(password, "password", 200, required: true).Any)
        {
            Problem = "Enter your user name and password.";
            return Page();
        }
        // A sign-in may write (failed attempts, lockout): on SQLite every write takes the writer's turn.
        var result = await db.InTransactionAsync(() => signIn.PasswordSignInAsync(userName!, password!, isPersistent: false, lockoutOnFailure: true));
        if (result.Succeeded) return LocalRedirect(ReturnUrl);
        if (result.RequiresTwoFactor) return RedirectToPage("/LoginTwoFactor", new { returnUrl = ReturnUrl });
        Problem = result.IsLockedOut
            ? "Too many failed attempts: this account is locked for 15 minutes. An admin can send you a reset link."
            : "That user name and password do not match.";
        return Page();
    }
}
