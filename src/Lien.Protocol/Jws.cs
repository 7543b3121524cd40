using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Lien.Protocol;

/// <summary>
/// JWS compact serialization restricted to ES256 (ECDSA P-256 with SHA-256), the one algorithm a lease may use.
/// Anything else — <c>none</c>, HMAC, RSA, a missing <c>kid</c>, extra segments — is refused before any key is touched.
/// </summary>
public static class Jws
{
    /// <summary>Signs <paramref name="payload"/> (already-serialized JSON) with <paramref name="key"/>.</summary>
    public static string Sign(ReadOnlySpan<byte> payload, ECDsa key, string kid, string typ)
    {
        var header = JsonSerializer.SerializeToUtf8Bytes(new Header("ES256", kid, typ), LeaseClaims.Json);
        var signingInput = $"{Base64Url.EncodeToString(header)}.{Base64Url.EncodeToString(payload)}";
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256,
            DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return $"{signingInput}.{Base64Url.EncodeToString(signature)}";
    }

    /// <summary>
    /// Verifies <paramref name="compact"/>; <paramref name="keyFor"/> maps a kid to a trusted public key (null: unknown).
    /// Returns the payload bytes, or the reason it was refused.
    /// </summary>
    public static JwsResult Verify(string compact, Func<string, ECDsa?> keyFor, string expectedTyp) =>
        Verify(compact, keyFor, expectedTyp, 16 * 1024);

    // Key-set statements and answers carry more than a lease, so their callers set their own bound.
    internal static JwsResult Verify(string compact, Func<string, ECDsa?> keyFor, string expectedTyp, int maxLength)
    {
        if (string.IsNullOrEmpty(compact) || compact.Length > maxLength) return JwsResult.Refused("malformed: empty or too long");
        var parts = compact.Split('.');
        if (parts.Length != 3) return JwsResult.Refused("malformed: a JWS compact has three segments");
        Header? header;
        byte[] payload, signature;
        try
        {
            header = JsonSerializer.Deserialize<Header>(Base64Url.DecodeFromChars(parts[0]), LeaseClaims.Json);
            payload = Base64Url.DecodeFromChars(parts[1]);
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return JwsResult.Refused("malformed: bad base64url or header JSON");
        }
        if (header is null) return JwsResult.Refused("malformed: no header");
        // Only the canonical encoding is accepted, so no two strings carry the same lease.
        if (Base64Url.EncodeToString(signature) != parts[2] || Base64Url.EncodeToString(payload) != parts[1])
            return JwsResult.Refused("malformed: non-canonical base64url");
        if (header.Alg != "ES256") return JwsResult.Refused($"algorithm '{header.Alg}' is not accepted; only ES256");
        if (header.Typ != expectedTyp) return JwsResult.Refused($"type '{header.Typ}' is not '{expectedTyp}'");
        if (string.IsNullOrEmpty(header.Kid)) return JwsResult.Refused("no kid");
        var key = keyFor(header.Kid);
        if (key is null) return JwsResult.Refused($"unknown signing key '{header.Kid}'");
        if (signature.Length != 64) return JwsResult.Refused("bad signature length");
        var signingInput = Encoding.ASCII.GetBytes(compact.AsSpan(0, parts[0].Length + 1 + parts[1].Length).ToString());
        var ok = key.VerifyData(signingInput, signature, HashAlgorithmName.SHA256,
            DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return ok ? new JwsResult(true, header.Kid, payload, null) : JwsResult.Refused("bad signature");
    }

    private sealed record Header(string? Alg, string? Kid, string? Typ);
}

/// <summary>The outcome of <see cref="Jws.Verify(string, Func{string, ECDsa}, string)"/>.</summary>
public sealed record JwsResult(bool Valid, string? Kid, byte[]? Payload, string? Reason)
{
    internal static JwsResult Refused(string reason) => new(false, null, null, reason);
}
