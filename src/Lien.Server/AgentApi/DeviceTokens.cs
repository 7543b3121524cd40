using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Lien.Server.AgentApi;

/// <summary>The device API's settings (<c>Lien:Device</c>).</summary>
internal sealed class DeviceOptions
{
    /// <summary>How long a device token holds; a check-in renews it once less than half is left.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromDays(30);
}

/// <summary>What reading a device token found.</summary>
internal enum TokenCheck { Malformed, Expired, Valid }

/// <summary>
/// Device bearer tokens: <c>{deviceId:N}.{epoch}.{expiresUnix}.{mac}</c>, the MAC an HMAC-SHA256 under a server secret
/// kept (sealed) in the database, so every node checks tokens without a lookup of its own. Re-enrolling bumps the
/// epoch, which retires the tokens of the device's earlier life; a token also runs out at its expiry (renewed in
/// check-in answers, or by <c>POST /v1/device/renew</c>).
/// </summary>
internal sealed class DeviceTokens(TimeProvider time, IOptions<DeviceOptions> options) : IDisposable
{
    public const string ExpiredType = "https://lien.dev/problems/device-token-expired";
    private const string SecretName = "device-token-mac";
    // One HMAC context per thread under the key, reused (as AnswerKeys does): HMACSHA256.HashData sets up a native
    // context per call, which on the check-in path cost more than the MAC itself.
    private ThreadLocal<IncrementalHash>? _mac;

    public TimeSpan Lifetime => options.Value.TokenLifetime;

    public async Task LoadAsync(IServiceProvider services)
    {
        var key = await ServerSecret.LoadOrCreateAsync(services, SecretName);
        _mac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key));
    }

    // A thread's context is released with the thread (it holds a SafeHandle); only the slot is ours to dispose.
    public void Dispose() => _mac?.Dispose();

    /// <summary>A token for the device's enrollment <paramref name="epoch"/>, good for <see cref="Lifetime"/> from now.</summary>
    public string Issue(Guid deviceId, int epoch) => Issue(deviceId, epoch, out _);

    /// <inheritdoc cref="Issue(Guid, int)"/>
    public string Issue(Guid deviceId, int epoch, out DateTimeOffset expiresAt)
    {
        var expires = (time.GetUtcNow() + Lifetime).ToUnixTimeSeconds();
        expiresAt = DateTimeOffset.FromUnixTimeSeconds(expires);
        var body = string.Create(CultureInfo.InvariantCulture, $"{deviceId:N}.{epoch}.{expires}");
        Span<byte> mac = stackalloc byte[MacBytes];
        Mac(body, mac);
        return $"{body}.{Base64Url.EncodeToString(mac)}";
    }

    /// <summary>True when a token expiring at <paramref name="expiresUnix"/> has less than half its life left: the answer carries a new one.</summary>
    public bool DueForRenewal(long expiresUnix) =>
        expiresUnix - time.GetUtcNow().ToUnixTimeSeconds() < (long)(Lifetime.TotalSeconds / 2);

    /// <summary>Reads an <c>Authorization: Device {token}</c> header; the caller compares the epoch with the device row.</summary>
    public TokenCheck ReadHeader(ReadOnlySpan<char> authorization, out Guid deviceId, out int epoch, out long expiresUnix)
    {
        if (authorization.StartsWith("Device ", StringComparison.Ordinal)) return Read(authorization[7..], out deviceId, out epoch, out expiresUnix);
        (deviceId, epoch, expiresUnix) = (Guid.Empty, 0, 0);
        return TokenCheck.Malformed;
    }

    /// <summary>
    /// Checks the token's form, then its MAC, then its expiry: only a genuine token is ever called expired. Allocates
    /// nothing (every check-in comes here) and never throws, whatever the text.
    /// </summary>
    public TokenCheck Read(ReadOnlySpan<char> token, out Guid deviceId, out int epoch, out long expiresUnix)
    {
        (deviceId, epoch, expiresUnix) = (Guid.Empty, 0, 0);
        if (token.Length > MaxLength) return TokenCheck.Malformed;
        var last = token.LastIndexOf('.');
        if (last < 0) return TokenCheck.Malformed;
        var body = token[..last];
        Span<Range> parts = stackalloc Range[4];
        if (body.Split(parts, '.') != 3) return TokenCheck.Malformed;
        if (!Guid.TryParseExact(body[parts[0]], "N", out deviceId)
            || !int.TryParse(body[parts[1]], NumberStyles.None, CultureInfo.InvariantCulture, out epoch)
            || !long.TryParse(body[parts[2]], NumberStyles.None, CultureInfo.InvariantCulture, out expiresUnix))
            return TokenCheck.Malformed;
        // Checked first: decoding throws on characters that are not base64url rather than answering false.
        var macChars = token[(last + 1)..];
        // The last of 22 characters carries 2 bits and 4 unused ones, which must be zero: one spelling for each token.
        if (macChars.Length != MacChars || macChars[^1] is not ('A' or 'Q' or 'g' or 'w') || !Base64Url.IsValid(macChars, out var length) || length != MacBytes)
            return TokenCheck.Malformed;
        Span<byte> given = stackalloc byte[MacBytes];
        if (Base64Url.DecodeFromChars(macChars, given, out _, out var written) != System.Buffers.OperationStatus.Done || written != MacBytes)
            return TokenCheck.Malformed;
        Span<byte> expected = stackalloc byte[MacBytes];
        Mac(body, expected);
        if (!CryptographicOperations.FixedTimeEquals(given, expected)) return TokenCheck.Malformed;
        return expiresUnix <= time.GetUtcNow().ToUnixTimeSeconds() ? TokenCheck.Expired : TokenCheck.Valid;
    }

    /// <summary>The answer to a device whose token does not hold: the agent enrolls again.</summary>
    public static ProblemHttpResult Unauthorized() => TypedResults.Problem(statusCode: 401,
        title: "Unknown device token", detail: "The device token is missing, malformed or from an earlier enrollment; enroll again.");

    /// <summary>The answer to a genuine token past its expiry: the agent renews it (<c>POST /v1/device/renew</c>).</summary>
    /// <remarks>It carries <c>serverTime</c>, so a phone whose clock is off signs its renewal at a time the server takes.</remarks>
    public static ProblemHttpResult Expired(DateTimeOffset now) => TypedResults.Problem(statusCode: 401, type: ExpiredType,
        title: "Device token expired", detail: "The device token has expired; renew it with POST /v1/device/renew, signed by the device key.",
        extensions: new Dictionary<string, object?> { ["serverTime"] = now });

    private const int MaxLength = 128;
    private const int MacBytes = 16;
    private const int MacChars = 22; // 16 bytes in unpadded base64url

    // The HMAC of the token body's ASCII bytes (anything else becomes '?', as Encoding.ASCII does), truncated to 16 bytes.
    private void Mac(ReadOnlySpan<char> body, Span<byte> mac)
    {
        var hmac = _mac?.Value ?? throw new InvalidOperationException("Device tokens are not loaded.");
        Span<byte> ascii = stackalloc byte[MaxLength];
        var length = Encoding.ASCII.GetBytes(body, ascii);
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        hmac.AppendData(ascii[..length]);
        hmac.GetHashAndReset(hash);
        hash[..MacBytes].CopyTo(mac);
    }
}
