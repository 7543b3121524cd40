using System.Net;
using System.Security.Cryptography;
using System.Text;
using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Mpesa;

/// <summary>A lender's M-Pesa settings as the API writes them; on update a null field is left as it is.</summary>
internal sealed record MpesaSettingsInput(string? ShortCode, string? ConsumerKey, string? ConsumerSecret, string? Passkey, string? BaseUrl,
    string? CallbackBaseUrl, string? InitiatorName, string? SecurityCredential, IReadOnlyList<string>? AllowedSources)
{
    public Errors Validate(bool creating)
    {
        var errors = new Errors()
            .Text(ShortCode, "shortCode", 16, required: creating)
            .Text(ConsumerKey, "consumerKey", 200, required: creating)
            .Text(ConsumerSecret, "consumerSecret", 200, required: creating)
            .Text(Passkey, "passkey", 200, required: creating)
            .Url(BaseUrl, "baseUrl")
            .Url(CallbackBaseUrl, "callbackBaseUrl")
            .Text(InitiatorName, "initiatorName", 64)
            .Text(SecurityCredential, "securityCredential", 2000);
        if (ShortCode is { Length: > 0 } s) errors.Check(s.Length is >= 5 and <= 9 && s.All(char.IsAsciiDigit), "shortCode", "shortCode must be the paybill number: 5 to 9 digits.");
        if (creating) errors.Check(!string.IsNullOrEmpty(CallbackBaseUrl), "callbackBaseUrl", "callbackBaseUrl is required: the public https address at which Daraja reaches this Lien.");
        if (AllowedSources is { } sources)
        {
            errors.Check(sources.Count <= 50, "allowedSources", "allowedSources holds at most 50 entries.");
            foreach (var source in sources.Take(50))
                errors.Check(source is { Length: <= 64 } && Errors.ControlCharacter(source, "allowedSources", false) is null && IPNetwork.TryParse(Network(source), out _),
                    "allowedSources", "allowedSources must be IP addresses or networks in CIDR notation, e.g. 196.201.214.0/24.");
        }
        return errors;
    }

    /// <summary>An address alone is the network of just that address.</summary>
    public static string Network(string source) => source.Contains('/') ? source : source + (source.Contains(':') ? "/128" : "/32");
}

/// <summary>The callback URLs Daraja is given for a lender: each carries the path secret.</summary>
internal sealed record MpesaCallbackUrls(string Validation, string Confirmation, string StkCallback, string StatusResult, string StatusTimeout);

/// <summary>A lender's M-Pesa settings as staff see them: secrets only as whether they are set.</summary>
internal sealed record MpesaSettingsView(string ShortCode, string BaseUrl, string CallbackBaseUrl, bool ConsumerKeySet, bool ConsumerSecretSet,
    bool PasskeySet, string? InitiatorName, bool SecurityCredentialSet, IReadOnlyList<string> AllowedSources, MpesaCallbackUrls CallbackUrls,
    DateTimeOffset UpdatedAt);

/// <summary>
/// A lender's M-Pesa account: its settings (secrets sealed at rest, never shown again), the callbacks' path secret
/// (made with the settings, rotatable) and the lookup by which an unsigned callback finds its lender; every change audited.
/// </summary>
internal sealed class MpesaAccounts(LienDb db, SecretBox box, AuditTrail audit, DarajaClient daraja, TimeProvider time)
{
    public const string DefaultBaseUrl = "https://sandbox.safaricom.co.ke/";
    // Every callback's first read: only what the lookup needs, compiled once.
    private static readonly CompiledQuery<Func<LienDb, string, CancellationToken, Task<CallbackAccount?>>> ByPathSecret = new(() => EF.CompileAsyncQuery(
        (LienDb db, string hash, CancellationToken ct) => db.Set<MpesaAccount>().Where(a => a.PathSecretHash == hash)
            .Select(a => new CallbackAccount(a.LenderId, a.AllowedSources)).FirstOrDefault()));

    private sealed record CallbackAccount(Guid LenderId, string? AllowedSources);

    private DbSet<MpesaAccount> Accounts => db.Set<MpesaAccount>();

    public async Task<MpesaSettingsView?> GetAsync(Guid lenderId, CancellationToken ct) =>
        await Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.LenderId == lenderId, ct) is { } a ? View(a) : null;

    /// <summary>Creates or changes the lender's settings; null when a first setting lacks what it needs (see <see cref="MpesaSettingsInput.Validate"/>).</summary>
    public Task<MpesaSettingsView> SetAsync(Guid lenderId, MpesaSettingsInput input, string actor, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            var now = time.GetUtcNow();
            var account = await Accounts.FirstOrDefaultAsync(a => a.LenderId == lenderId, ct);
            var created = account is null;
            if (account is null)
            {
                var (secret, hash) = NewPathSecret();
                account = new MpesaAccount
                {
                    LenderId = lenderId, ShortCode = input.ShortCode!, ConsumerKey = Seal(input.ConsumerKey!), ConsumerSecret = Seal(input.ConsumerSecret!),
                    Passkey = Seal(input.Passkey!), BaseUrl = DefaultBaseUrl, CallbackBaseUrl = input.CallbackBaseUrl!, PathSecretHash = hash, PathSecret = Seal(secret),
                };
                Accounts.Add(account);
            }
            if (input.ShortCode is { Length: > 0 } code) account.ShortCode = code;
            if (input.ConsumerKey is { Length: > 0 } key) account.ConsumerKey = Seal(key);
            if (input.ConsumerSecret is { Length: > 0 } consumerSecret) account.ConsumerSecret = Seal(consumerSecret);
            if (input.Passkey is { Length: > 0 } passkey) account.Passkey = Seal(passkey);
            if (input.BaseUrl is not null) account.BaseUrl = input.BaseUrl.Length == 0 ? DefaultBaseUrl : WithSlash(input.BaseUrl);
            if (input.CallbackBaseUrl is { Length: > 0 } callback) account.CallbackBaseUrl = callback.TrimEnd('/');
            if (input.InitiatorName is not null) account.InitiatorName = input.InitiatorName.Length == 0 ? null : input.InitiatorName;
            if (input.SecurityCredential is not null) account.SecurityCredential = input.SecurityCredential.Length == 0 ? null : Seal(input.SecurityCredential);
            if (input.AllowedSources is { } sources) account.AllowedSources = sources.Count == 0 ? null : string.Join(',', sources);
            account.UpdatedAt = now;
            // Which settings changed, never their values: the audit trail is read more widely than the secrets may be.
            await audit.RecordAsync(lenderId, actor, AuditAction.MpesaSettingsChanged, $"mpesa:{lenderId}",
                data: new
                {
                    created, account.ShortCode, account.BaseUrl, account.CallbackBaseUrl,
                    changed = new[] { input.ConsumerKey is null ? null : "consumerKey", input.ConsumerSecret is null ? null : "consumerSecret",
                        input.Passkey is null ? null : "passkey", input.SecurityCredential is null ? null : "securityCredential" }.OfType<string>(),
                    allowedSources = account.AllowedSources,
                }, ct: ct);
            return View(account);
        }, ct);

    /// <summary>A new path secret: the callback URLs change at once and the old ones answer 404 (register the URLs again).</summary>
    public Task<MpesaSettingsView?> RotatePathSecretAsync(Guid lenderId, string actor, CancellationToken ct) =>
        db.InTransactionAsync<MpesaSettingsView?>(async () =>
        {
            var account = await Accounts.FirstOrDefaultAsync(a => a.LenderId == lenderId, ct);
            if (account is null) return null;
            var (secret, hash) = NewPathSecret();
            (account.PathSecret, account.PathSecretHash, account.UpdatedAt) = (Seal(secret), hash, time.GetUtcNow());
            await audit.RecordAsync(lenderId, actor, AuditAction.MpesaPathSecretRotated, $"mpesa:{lenderId}", ct: ct);
            return View(account);
        }, ct);

    /// <summary>Registers the lender's validation and confirmation URLs with Daraja (C2B register URL); null when not configured.</summary>
    public async Task<DarajaAnswer?> RegisterUrlsAsync(Guid lenderId, string actor, CancellationToken ct)
    {
        var account = await Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.LenderId == lenderId, ct);
        if (account is null) return null;
        var urls = UrlsOf(account);
        var answer = await daraja.RegisterUrlsAsync(Open(account), urls.Confirmation, urls.Validation, ct);
        if (answer is DarajaAnswer.Accepted)
            await db.InTransactionAsync(async () =>
            {
                await audit.RecordAsync(lenderId, actor, AuditAction.MpesaUrlsRegistered, $"mpesa:{lenderId}", data: new { account.ShortCode }, ct: ct);
                return 0;
            }, ct);
        return answer;
    }

    /// <summary>The lender whose callbacks <paramref name="pathSecret"/> names, if <paramref name="from"/> may send them; else null.</summary>
    public async Task<Guid?> CallbackLenderAsync(string pathSecret, IPAddress? from, CancellationToken ct)
    {
        if (pathSecret.Length != 43) return null;
        var account = await ByPathSecret.For(db)(db, Hash(pathSecret), ct);
        if (account is null) return null;
        if (account.AllowedSources is { } allowed && (from is null || !allowed.Split(',').Any(s => IPNetwork.Parse(MpesaSettingsInput.Network(s)).Contains(Unmapped(from)))))
            return null;
        return account.LenderId;
    }

    /// <summary>The lender's Daraja app opened, and its callback URLs; null when the lender has no M-Pesa account.</summary>
    public async Task<(DarajaApp App, MpesaCallbackUrls Urls)?> OpenAsync(Guid lenderId, CancellationToken ct) =>
        await Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.LenderId == lenderId, ct) is { } a ? (Open(a), UrlsOf(a)) : null;

    private DarajaApp Open(MpesaAccount a) => new(new Uri(a.BaseUrl), a.ShortCode, Unseal(a.ConsumerKey), Unseal(a.ConsumerSecret), Unseal(a.Passkey),
        a.InitiatorName, a.SecurityCredential is null ? null : Unseal(a.SecurityCredential));

    private MpesaCallbackUrls UrlsOf(MpesaAccount a)
    {
        var root = $"{a.CallbackBaseUrl.TrimEnd('/')}/mpesa/{Unseal(a.PathSecret)}";
        return new MpesaCallbackUrls($"{root}/c2b/validation", $"{root}/c2b/confirmation", $"{root}/stk", $"{root}/status/result", $"{root}/status/timeout");
    }

    private MpesaSettingsView View(MpesaAccount a) => new(a.ShortCode, a.BaseUrl, a.CallbackBaseUrl, true, true, true, a.InitiatorName,
        a.SecurityCredential is not null, a.AllowedSources?.Split(',') ?? [], UrlsOf(a), a.UpdatedAt);

    private byte[] Seal(string value) => box.Seal(Encoding.UTF8.GetBytes(value), MpesaAccount.SealPurpose);
    private string Unseal(byte[] value) => Encoding.UTF8.GetString(box.Open(value, MpesaAccount.SealPurpose));

    private static (string Secret, string Hash) NewPathSecret()
    {
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (secret, Hash(secret));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    private static string WithSlash(string url) => url.EndsWith('/') ? url : url + "/";
    private static IPAddress Unmapped(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;
}
