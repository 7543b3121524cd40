using Lien.Agent;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Lenders;
using Lien.Server.Mpesa;
using Lien.Server.Notices;
using Lien.Server.Storage;
using Lien.Server.Webhooks;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Console.Pages;

/// <summary>An admin's settings: branding with a lock-screen preview and the logo Lien serves, the policy profile, SMS templates, API keys, webhooks — each through its operation.</summary>
[Authorize(Policy = ConsolePolicies.Admin)]
[RequestSizeLimit(LenderLogo.MaxBytes + 64 * 1024)]
internal sealed class SettingsModel(LienDb db, LenderSetup setup, SmsNotices notices, WebhookRegistry webhooks, MpesaAccounts mpesa, TimeProvider time) : PageModel
{
    public Lender? Lender { get; private set; }
    public LockScreenView Preview { get; private set; } = null!;
    public string? PreviewName { get; private set; }
    public string? PreviewPhone { get; private set; }
    public string? PreviewShortCode { get; private set; }
    public IReadOnlyList<TemplateView> Templates { get; private set; } = [];
    public IReadOnlyList<ApiKey> Keys { get; private set; } = [];
    public IReadOnlyList<WebhookEndpoint> Webhooks { get; private set; } = [];
    public MpesaSettingsView? Mpesa { get; private set; }
    public string? Message { get; private set; }
    public string? Problem { get; private set; }
    public string? NewToken { get; private set; }
    public string? NewSecret { get; private set; }

    private Guid LenderId => User.LenderId();
    private string Actor => User.ConsoleActor();

    public Task OnGetAsync(CancellationToken ct) => LoadAsync(ct);

    public async Task OnPostBrandingAsync(string? name, string? supportPhone, string? shortCode, string? preview, CancellationToken ct)
    {
        var settings = new LenderSettings(name?.Trim(), null, supportPhone?.Trim() ?? "", shortCode?.Trim() ?? "", null, null, null, null, null);
        var errors = settings.Validate(creating: false).Text(name, "name", 200, required: true);
        if (errors.Any) Problem = "The name is required (up to 200 characters); the phone and short code are up to 32 characters, without control characters.";
        else if (preview == "yes") (PreviewName, PreviewPhone, PreviewShortCode, Message) = (settings.Name, settings.SupportPhone, settings.ShortCode, "Preview only: not saved.");
        else
        {
            await setup.UpdateAsync(LenderId, settings, Actor, ct);
            Message = "Branding saved: new leases carry it.";
        }
        await LoadAsync(ct);
    }

    public async Task OnPostLogoAsync(IFormFile? logo, CancellationToken ct)
    {
        if (logo is null || logo.Length is 0 or > LenderLogo.MaxBytes) Problem = $"Choose an image of at most {LenderLogo.MaxBytes / 1024} KB.";
        else
        {
            var bytes = new byte[logo.Length];
            await using (var s = logo.OpenReadStream()) await s.ReadExactlyAsync(bytes, ct);
            if (LenderLogo.TypeOf(bytes) is not { } type) Problem = "The logo must be a PNG, JPEG or WebP image.";
            else
            {
                await db.InTransactionAsync(async () =>
                {
                    var row = await db.Set<LenderLogo>().FirstOrDefaultAsync(l => l.LenderId == LenderId, ct);
                    if (row is null) db.Set<LenderLogo>().Add(new LenderLogo { LenderId = LenderId, ContentType = type, Bytes = bytes, UpdatedAt = time.GetUtcNow() });
                    else (row.ContentType, row.Bytes, row.UpdatedAt) = (type, bytes, time.GetUtcNow());
                    await db.SaveChangesAsync(ct);
                    return true;
                }, ct);
                var url = $"{Request.Scheme}://{Request.Host}/logos/{LenderId}?v={time.GetUtcNow().ToUnixTimeSeconds()}";
                await setup.UpdateAsync(LenderId, new LenderSettings(null, url, null, null, null, null, null, null, null), Actor, ct);
                Message = "Logo uploaded: new leases show it.";
            }
        }
        await LoadAsync(ct);
    }

    public async Task OnPostPolicyAsync(string? profile, string? hold, CancellationToken ct)
    {
        int? hours = int.TryParse(hold, out var h) ? h : null;
        if (profile is null || !PolicyProfile.Names.Contains(profile) || profile == "custom" || (hold is { Length: > 0 } && hours is not (>= 0 and <= LenderSettings.MaxSettlementHoldHours)))
            Problem = "Choose a profile, and a settlement hold from 0 to 336 hours (or leave it empty).";
        else
        {
            var settings = new LenderSettings(null, null, null, null, null, null, null, profile, null, SettlementHoldHours: hours);
            if (settings.Validate(creating: false) is { Any: true } errors) Problem = errors.Problem().ProblemDetails.Detail;
            else
            {
                await setup.UpdateAsync(LenderId, settings, Actor, ct);
                Message = $"Policy saved: {profile}.";
            }
        }
        await LoadAsync(ct);
    }

    public async Task OnPostTemplateAsync(string? language, string? kind, string? text, CancellationToken ct)
    {
        if (new Errors().Text(language, "language", 8, required: true).Text(kind, "kind", 32, required: true).Text(text, "text", 480, required: true).Any
            || !SmsTemplates.IsLanguage(language))
            Problem = "A template needs its text (up to 480 characters).";
        else if (await notices.ProblemAsync(LenderId, kind!, text!, ct) is { } problem) Problem = problem;
        else
        {
            await notices.SetTemplateAsync(LenderId, language!, kind!, text!, Actor, ct);
            Message = $"Template {kind} ({language}) saved.";
        }
        await LoadAsync(ct);
    }

    public async Task OnPostCreateKeyAsync(string? name, string? role, CancellationToken ct)
    {
        if (new Errors().Text(name, "name", 100, required: true).Any || !Enum.TryParse<ApiRole>(role, out var r) || !Enum.IsDefined(r) || role!.Any(char.IsDigit))
            Problem = "Name the key (up to 100 characters) and choose a role.";
        else NewToken = (await setup.CreateApiKeyAsync(LenderId, name!.Trim(), r, Actor, ct)).Token;
        await LoadAsync(ct);
    }

    public async Task OnPostRevokeKeyAsync(string? id, CancellationToken ct)
    {
        if (id is { Length: > 0 and <= 40 } && await setup.RevokeApiKeyAsync(LenderId, id, Actor, ct)) Message = "API key revoked.";
        else Problem = "No such API key.";
        await LoadAsync(ct);
    }

    public async Task OnPostCreateWebhookAsync(string? url, string? description, CancellationToken ct)
    {
        if (new Errors().Url(url, "url").Text(url, "url", 500, required: true).Text(description, "description", 200).Any) Problem = "Enter an absolute http(s) URL of at most 500 characters.";
        else
            switch (await webhooks.CreateAsync(LenderId, url!, string.IsNullOrWhiteSpace(description) ? null : description, null, Actor, ct))
            {
                case WebhookOutcome.Done<(WebhookEndpoint, string)> done: NewSecret = done.Value.Item2; break;
                case WebhookOutcome.Refused refused: Problem = refused.Detail; break;
            }
        await LoadAsync(ct);
    }

    public async Task OnPostDeleteWebhookAsync(Guid? id, CancellationToken ct)
    {
        if (id is { } hook && await webhooks.DeleteAsync(LenderId, hook, Actor, ct) is WebhookOutcome.Done<WebhookEndpoint>) Message = "Webhook deleted.";
        else Problem = "No such webhook.";
        await LoadAsync(ct);
    }

    /// <summary>M-Pesa (Daraja) settings through <see cref="MpesaAccounts"/>: a secret left empty keeps the one stored.</summary>
    public async Task OnPostMpesaAsync(string? shortCode, string? consumerKey, string? consumerSecret, string? passkey, string? baseUrl,
        string? callbackBaseUrl, string? allowedSources, CancellationToken ct)
    {
        static string? Given(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
        var sources = Given(allowedSources)?.Split([' ', ',', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
        var input = new MpesaSettingsInput(Given(shortCode), Given(consumerKey), Given(consumerSecret), Given(passkey), Given(baseUrl),
            Given(callbackBaseUrl), null, null, sources is null ? null : [.. sources]);
        var creating = await mpesa.GetAsync(LenderId, ct) is null;
        if (input.Validate(creating) is { Any: true } errors) Problem = errors.Problem().ProblemDetails.Detail ?? "Check the M-Pesa settings.";
        else
        {
            await mpesa.SetAsync(LenderId, input, Actor, ct);
            Message = "M-Pesa settings saved; the secrets are sealed and not shown again.";
        }
        await LoadAsync(ct);
    }

    public async Task OnPostMpesaRegisterAsync(CancellationToken ct)
    {
        (Message, Problem) = await mpesa.RegisterUrlsAsync(LenderId, Actor, ct) switch
        {
            null => ((string?)null, (string?)"Save the M-Pesa settings first."),
            DarajaAnswer.Accepted => ("Daraja took the validation and confirmation URLs.", null),
            DarajaAnswer.Refused r => (null, $"Daraja refused the URLs: {r.Message}"),
            DarajaAnswer.Unreachable u => (null, $"Daraja could not be reached: {u.Message}"),
            _ => (null, "Daraja's answer was not understood."),
        };
        await LoadAsync(ct);
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == LenderId, ct);
        Templates = await notices.TemplatesAsync(LenderId, ct);
        Keys = await db.ApiKeys.AsNoTracking().Where(k => k.LenderId == LenderId).OrderBy(k => k.CreatedAt).ToListAsync(ct);
        Webhooks = await db.WebhookEndpoints.AsNoTracking().Where(w => w.LenderId == LenderId).OrderBy(w => w.CreatedAt).ToListAsync(ct);
        Mpesa = await mpesa.GetAsync(LenderId, ct);
        var name = PreviewName ?? Lender.Name;
        // A sample overdue lock, as the agent lays it out (LockScreenView), with the branding being edited.
        Preview = new LockScreenView(true, LeaseMode.Locked, name, Lender.LogoUrl, new Money(1_450_00, Lender.Currency).ToString(), $"Pay {name}, account LN-7F3K",
            PreviewPhone ?? Lender.SupportPhone, PreviewShortCode ?? Lender.ShortCode, null,
            "This device is locked due to an overdue installment payment.", "sample",
            [LockScreenAction.EmergencyCall, LockScreenAction.EnterUnlockCode, LockScreenAction.Refresh, LockScreenAction.Help]);
    }
}
