using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace Lien.Protocol;

/// <summary>
/// What a key-set statement says (docs/PROTOCOL.md §3 "Trust keys"): the lender's lease-signing keys at
/// <see cref="Version"/> (raised at every rotation and revocation), and every key it ever revoked.
/// </summary>
public sealed record KeySetClaims(string Typ, Guid LenderId, long Version, long IssuedAt, IReadOnlyList<TrustKey> Keys, IReadOnlyList<string> Revoked)
{
    /// <summary>The payload's <c>typ</c>, and the <c>typ</c> of each signature's protected header.</summary>
    public const string Type = "lien-keyset";
}

/// <summary>One signature of a <see cref="KeySetStatement"/>: base64url protected header and signature (RFC 7515 §7.2.1).</summary>
public sealed record KeySetSignature(string Protected, string Signature);

/// <summary>
/// The lender's trust keys as a JWS in the General JSON Serialization (RFC 7515 §7.2.1):
/// <c>{"payload":"…","signatures":[{"protected":"…","signature":"…"}…]}</c>, the payload <see cref="KeySetClaims"/>, with one
/// ES256 signature by every key the payload lists. A device takes a new statement only when a key it already trusts
/// signed it; the rules are in <see cref="Verify"/> and the agent.
/// </summary>
public sealed record KeySetStatement(string Payload, IReadOnlyList<KeySetSignature> Signatures)
{
    private const int MaxLength = 64 * 1024;

    /// <summary>Signs <paramref name="claims"/> with each of <paramref name="signers"/> (every key the claims list).</summary>
    public static KeySetStatement Sign(KeySetClaims claims, IEnumerable<(string Kid, ECDsa Key)> signers)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(claims, LeaseClaims.Json);
        var signatures = signers.Select(s =>
        {
            var parts = Jws.Sign(payload, s.Key, s.Kid, KeySetClaims.Type).Split('.');
            return new KeySetSignature(parts[0], parts[2]);
        }).ToList();
        return new KeySetStatement(Base64Url.EncodeToString(payload), signatures);
    }

    /// <summary>
    /// The claims when the statement is well formed for <paramref name="lenderId"/>: the payload parses with
    /// <c>typ</c> <c>lien-keyset</c>; every key is a P-256 ES256 signing JWK with a kid of its own, none revoked; and there
    /// is exactly one signature per listed key, each verifying (ES256, protected header <c>typ</c> <c>lien-keyset</c>,
    /// canonical base64url) with the key its <c>kid</c> names. Otherwise null and <paramref name="problem"/> says why.
    /// Whether the device may take it (version, a signer it already trusts) is the device's rule, not this one's.
    /// </summary>
    public KeySetClaims? Verify(Guid lenderId, out string? problem)
    {
        problem = null;
        if (Payload is null || Signatures is null || Payload.Length > MaxLength || Signatures.Count > 64)
            return Refuse("malformed: no payload or signatures, or too long", out problem);
        KeySetClaims? claims;
        try
        {
            claims = JsonSerializer.Deserialize<KeySetClaims>(Base64Url.DecodeFromChars(Payload), LeaseClaims.Json);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return Refuse("malformed: the payload is not base64url JSON", out problem);
        }
        if (claims?.Keys is null || claims.Revoked is null || claims.Typ != KeySetClaims.Type)
            return Refuse("malformed: not a lien-keyset payload", out problem);
        if (claims.LenderId != lenderId) return Refuse($"the key set is lender {claims.LenderId}'s, not {lenderId}'s", out problem);
        if (claims.Keys.Count == 0) return Refuse("the key set lists no keys", out problem);
        var keys = new Dictionary<string, ECDsa>(StringComparer.Ordinal);
        try
        {
            foreach (var k in claims.Keys)
            {
                if (string.IsNullOrEmpty(k.Kid) || keys.ContainsKey(k.Kid) || claims.Revoked.Contains(k.Kid))
                    return Refuse($"key '{k.Kid}' is missing a kid, listed twice or revoked", out problem);
                try { keys[k.Kid] = k.ToECDsa(); }
                catch (Exception e) when (e is CryptographicException or FormatException)
                {
                    return Refuse($"key '{k.Kid}' is not a P-256 ES256 signing key", out problem);
                }
            }
            if (Signatures.Count != keys.Count) return Refuse("not one signature per listed key", out problem);
            var signed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var s in Signatures)
            {
                var result = Jws.Verify($"{s?.Protected}.{Payload}.{s?.Signature}", kid => keys.GetValueOrDefault(kid), KeySetClaims.Type, 2 * MaxLength);
                if (!result.Valid) return Refuse("a signature does not verify: " + result.Reason, out problem);
                if (!signed.Add(result.Kid!)) return Refuse($"key '{result.Kid}' signed twice", out problem);
            }
            return claims;
        }
        finally
        {
            foreach (var k in keys.Values) k.Dispose();
        }
    }

    private static KeySetClaims? Refuse(string why, out string? problem)
    {
        problem = why;
        return null;
    }
}
