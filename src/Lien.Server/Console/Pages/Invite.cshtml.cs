using Lien.Server.Api;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lien.Server.Console.Pages;

/// <summary>The one-time link of an invite or a reset: sets the password (Identity's reset token, spent by its use).</summary>
internal sealed class InviteModel(UserManager<ConsoleUser> users, LienDb db) : PageModel
{
    public string? Problem { get; private set; }
    public string UserId { get; private set; } = "";
    public string Token { get; private set; } = "";
    public bool Done { get; private set; }

    public void OnGet(string? user, string? token) => (UserId, Token) = (Clean(user, 36), Clean(token, 1000));

    public async Task OnPostAsync(string? user, string? token, string? password, string? confirm)
    {
        (UserId, Token) = (Clean(user, 36), Clean(token, 1000));
        if (new Errors().Text(password, "password", 200, required: true).Any || password != confirm)
        {
            Problem = "Enter the same password twice.";
            return;
        }
        var result = await db.InTransactionAsync(async () =>
        {
            var u = UserId.Length == 0 ? null : await users.FindByIdAsync(UserId);
            if (u is null) return IdentityResult.Failed(new IdentityError { Description = "This link is not valid." });
            var reset = await users.ResetPasswordAsync(u, Token, password!);
            if (reset.Succeeded)
            {
                u.Activated = true;
                await users.ResetAccessFailedCountAsync(u);
                await users.SetLockoutEndDateAsync(u, null);
            }
            return reset;
        });
        if (result.Succeeded) Done = true;
        else Problem = string.Join(" ", result.Errors.Select(e => e.Code == "InvalidToken" ? "This link was used already or has expired; ask an admin for a new one." : e.Description));
    }

    private static string Clean(string? value, int max) => value is { } v && v.Length <= max && Errors.ControlCharacter(v, "x", false) is null ? v : "";
}
