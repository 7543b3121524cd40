using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lien.Server.Storage;

namespace Lien.Server.AgentApi;

/// <summary>
/// Device bearer tokens: <c>{deviceId}.{epoch}.{mac}</c>, the MAC an HMAC-SHA256 under a server secret kept (sealed) in
/// the database, so every node checks tokens without a lookup of its own. Re-enrolling bumps the epoch, which
/// retires the tokens of the device's earlier life.
/// </summary>
internal sealed class DeviceTokens
{
    private const string SecretName = "device-token-mac";
    private byte[]? _key;

    public async Task LoadAsync(IServiceProvider services) => _key = await ServerSecret.LoadOrCreateAsync(services, SecretName);

    public string Issue(Guid deviceId, int epoch)
    {
        var body = string.Create(CultureInfo.InvariantCulture, $"{deviceId:N}.{epoch}");
        Span<byte> mac = stackalloc byte[MacBytes];
        Mac(body, mac);
        return $"{body}.{Base64Url.EncodeToString(mac)}";
    }

    /// <summary>Checks the MAC only; the caller compares the epoch with the device row. Allocates nothing: every check-in comes here.</summary>
    /// <summary>Reads an <c>Authorization: Device {token}</c> header; the caller compares the epoch with the device row.</summary>
    public bool TryReadHeader(ReadOnlySpan<char> authorization, out Guid deviceId, out int epoch)
    {
        if (authorization.StartsWith("Device ", StringComparison.Ordinal)) return TryRead(authorization[7..], out deviceId, out epoch);
        (deviceId, epoch) = (Guid.Empty, 0);
        return false;
    }

    /// <summary>The one answer to a device whose token does not hold: the agent enrolls again.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Unauthorized() => TypedResults.Problem(statusCode: 401,
        title: "Unknown device token", detail: "The device token is missing, malformed or from an earlier enrollment; enroll again.");

    public bool TryRead(ReadOnlySpan<char> token, out Guid deviceId, out int epoch)
    {
        deviceId = Guid.Empty;
        epoch = 0;
        if (token.Length > MaxLength) return false;
        var last = token.LastIndexOf('.');
        if (last < 0) return false;
        var body = token[..last];
        var dot = body.IndexOf('.');
        if (dot < 0 || !Guid.TryParseExact(body[..dot], "N", out deviceId) || !int.TryParse(body[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out epoch))
            return false;
        // Checked first: decoding throws on characters that are not base64url rather than answering false.
        var macChars = token[(last + 1)..];
        if (!Base64Url.IsValid(macChars, out var length) || length != MacBytes) return false;
        Span<byte> given = stackalloc byte[MacBytes];
        Base64Url.DecodeFromChars(macChars, given);
        Span<byte> expected = stackalloc byte[MacBytes];
        Mac(body, expected);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    private const int MaxLength = 100;
    private const int MacBytes = 16;

    // The HMAC of the token body's ASCII bytes (anything else becomes '?', as Encoding.ASCII does), truncated to 16 bytes.
    private void Mac(ReadOnlySpan<char> body, Span<byte> mac)
    {
        var key = _key ?? throw new InvalidOperationException("Device tokens are not loaded.");
        Span<byte> ascii = stackalloc byte[MaxLength];
        var length = Encoding.ASCII.GetBytes(body, ascii);
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, ascii[..length], hash);
        hash[..MacBytes].CopyTo(mac);
    }
}
