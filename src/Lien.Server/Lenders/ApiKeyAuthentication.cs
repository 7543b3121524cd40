using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Lien.Server.Api;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Lenders;

/// <summary>
/// Lender API keys: <c>Authorization: Bearer lien_{id}_{secret}</c>. The secret is 32 random bytes, so one SHA-256
/// of it is the right hash (a slow password hash protects low-entropy secrets; this one is not).
/// </summary>
internal sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    private static readonly CompiledQuery<Func<LienDb, string, CancellationToken, Task<ApiKey?>>> KeyById = new(() => EF.CompileAsyncQuery(
        (LienDb db, string id, CancellationToken ct) => db.ApiKeys.AsNoTracking().FirstOrDefault(k => k.Id == id)));

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal)) return AuthenticateResult.NoResult();
        if (!TryParse(header["Bearer ".Length..].Trim(), out var id, out var secret))
            return AuthenticateResult.Fail("Malformed API key.");
        var cache = Context.RequestServices.GetRequiredService<ApiKeyCache>();
        var key = cache.Find(id);
        var held = key is not null;
        if (!held)
        {
            // Resolved only for requests that carry a key the cache does not hold: device traffic never rents a database context here.
            var db = Context.RequestServices.GetRequiredService<LienDb>();
            key = await KeyById.For(db)(db, id, Context.RequestAborted);
        }
        if (key is null || key.RevokedAt is not null || !CryptographicOperations.FixedTimeEquals(key.SecretHash, Hash(secret)))
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        if (!held) cache.Hold(key);
        var identity = new ClaimsIdentity(
        [
            new Claim(Principals.LenderClaim, key.LenderId.ToString()),
            new Claim(Principals.KeyClaim, key.Id),
            new Claim(ClaimTypes.Role, key.Role.ToString()),
            new Claim(ClaimTypes.Name, $"api-key:{key.Id}"),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    public static (string Id, string Token, byte[] Hash) NewKey()
    {
        var id = "ak" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        return (id, $"lien_{id}_{secret}", Hash(secret));
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static bool TryParse(string token, out string id, out string secret)
    {
        id = secret = "";
        var parts = token.Split('_');
        if (parts.Length != 3 || parts[0] != "lien" || parts[1].Length != 14 || parts[2].Length != 64) return false;
        (id, secret) = (parts[1], parts[2]);
        return true;
    }
}
