using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using QRCoder;

namespace Lien.Server.Console.Pages;

/// <summary>The signed-in user's own account: authenticator-app enrolment (QR by QRCoder), recovery codes, password.</summary>
internal sealed class AccountModel(UserManager<ConsoleUser> users, SignInManager<ConsoleUser> signIn, LienDb db, AuditTrail audit) : PageModel
{
    public bool TwoFactorEnabled { get; private set; }
    public int RecoveryCodesLeft { get; private set; }
    public string? SharedKey { get; private set; }
    public string? QrDataUri { get; private set; }
    public IReadOnlyList<string>? RecoveryCodes { get; private set; }
    public string? Message { get; private set; }
    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() is null ? Challenge() : Page();

    public async Task<IActionResult> OnPostStartAsync()
    {
        if (await LoadAsync() is not { } user) return Challenge();
        if (user.TwoFactorEnabled) return Page();
        await db.InTransactionAsync(async () => await users.ResetAuthenticatorKeyAsync(user));
        await ShowKeyAsync(user);
        return Page();
    }

    public async Task<IActionResult> OnPostConfirmAsync(string? code)
    {
        if (await LoadAsync() is not { } user) return Challenge();
        if (user.TwoFactorEnabled) return Page();
        var digits = (code ?? "").Trim();
        var ok = digits.Length == 6 && digits.All(char.IsAsciiDigit) && await db.InTransactionAsync(async () =>
        {
            if (!await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, digits)) return false;
            await users.SetTwoFactorEnabledAsync(user, true);
            RecoveryCodes = [.. await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 10) ?? []];
            await audit.RecordAsync(user.LenderId, User.ConsoleActor(), AuditAction.ConsoleTwoFactorChanged, $"console-user:{user.Id}", "Two-factor turned on.", null);
            return true;
        });
        if (!ok)
        {
            Problem = "That code is not the one the app shows now; try the next one.";
            await ShowKeyAsync(user);
            return Page();
        }
        await signIn.RefreshSignInAsync(user);
        await LoadAsync();
        Message = "Two-factor authentication is on.";
        return Page();
    }

    public async Task<IActionResult> OnPostRecoveryCodesAsync()
    {
        if (await LoadAsync() is not { TwoFactorEnabled: true } user) return RedirectToPage();
        RecoveryCodes = [.. await db.InTransactionAsync(() => users.GenerateNewTwoFactorRecoveryCodesAsync(user, 10)) ?? []];
        await LoadAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostDisableAsync()
    {
        if (await LoadAsync() is not { } user) return Challenge();
        await db.InTransactionAsync(async () =>
        {
            await users.SetTwoFactorEnabledAsync(user, false);
            await users.ResetAuthenticatorKeyAsync(user);
            await audit.RecordAsync(user.LenderId, User.ConsoleActor(), AuditAction.ConsoleTwoFactorChanged, $"console-user:{user.Id}", "Two-factor turned off.", null);
            return true;
        });
        await signIn.RefreshSignInAsync(user);
        await LoadAsync();
        Message = "Two-factor authentication is off.";
        return Page();
    }

    public async Task<IActionResult> OnPostPasswordAsync(string? current, string? next)
    {
        if (await LoadAsync() is not { } user) return Challenge();
        if (new Errors().Text(current, "current", 200, required: true).Text(next, "next", 200, required: true).Any)
        {
            Problem = "Enter your current password and a new one.";
            return Page();
        }
        var result = await db.InTransactionAsync(() => users.ChangePasswordAsync(user, current!, next!));
        if (result.Succeeded)
        {
            await signIn.RefreshSignInAsync(user);
            Message = "Your password is changed.";
        }
        else Problem = string.Join(" ", result.Errors.Select(e => e.Description));
        return Page();
    }

    private async Task<ConsoleUser?> LoadAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null) return null;
        TwoFactorEnabled = user.TwoFactorEnabled;
        RecoveryCodesLeft = TwoFactorEnabled ? await users.CountRecoveryCodesAsync(user) : 0;
        return user;
    }

    private async Task ShowKeyAsync(ConsoleUser user)
    {
        SharedKey = await users.GetAuthenticatorKeyAsync(user);
        var uri = $"otpauth://totp/{Uri.EscapeDataString("Lien:" + user.UserName)}?secret={SharedKey}&issuer=Lien&digits=6";
        using var data = QRCodeGenerator.GenerateQrCode(uri, QRCodeGenerator.ECCLevel.M);
        QrDataUri = "data:image/png;base64," + Convert.ToBase64String(new PngByteQRCode(data).GetGraphic(6));
    }
}
