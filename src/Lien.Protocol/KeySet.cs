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
/// signed it; the rules are in <see cref="Verify(Guid, out string?)"/> and the agent.
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
    /// <c>typ</c> <c>lien-keyset</c>; every key is a P-256 ES256 signing JWK with a kid of its own, none revoked; every listed
    /// key signed it once, each signature verifying (ES256, protected header <c>typ</c> <c>lien-keyset</c>, canonical
    /// base64url) with the key its <c>kid</c> names. Otherwise null and <paramref name="problem"/> says why.
    /// Whether the device may take it (version, a signer it already trusts) is the device's rule, not this one's.
    /// </summary>
    public KeySetClaims? Verify(Guid lenderId, out string? problem) => Verify(lenderId, [], out _, out problem);

    /// <summary>
    /// <see cref="Verify(Guid, out string?)"/>, and also the signatures by keys the statement revokes — the statement that
    /// revokes a key is signed by it too, its last signature, so a device that trusted only that key can follow — checked
    /// with <paramref name="known"/> (the keys the device trusts); one by a revoked key the caller does not know is passed
    /// over. <paramref name="signers"/>: every kid whose signature verified.
    /// </summary>
    public KeySetClaims? Verify(Guid lenderId, IReadOnlyList<TrustKey> known, out IReadOnlyList<string> signers, out string? problem)
    {
        signers = [];
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
            var signed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var s in Signatures)
            {
                string? named = null;
                var result = Jws.Verify($"{s?.Protected}.{Payload}.{s?.Signature}", kid => KeyFor(named = kid, claims, keys, known), KeySetClaims.Type, 2 * MaxLength);
                if (!result.Valid && named is not null && !keys.ContainsKey(named) && claims.Revoked.Contains(named) && known.All(k => k.Kid != named))
                    continue; // the revoked key's own signature, which this verifier cannot check
                if (!result.Valid) return Refuse("a signature does not verify: " + result.Reason, out problem);
                if (!signed.Add(result.Kid!)) return Refuse($"key '{result.Kid}' signed twice", out problem);
            }
            if (claims.Keys.FirstOrDefault(k => !signed.Contains(k.Kid)) is { } unsigned) return Refuse($"key '{unsigned.Kid}' did not sign the key set", out problem);
            signers = [.. signed];
            return claims;
        }
        finally
        {
            foreach (var k in keys.Values) k.Dispose();
        }
    }

    // A listed key, or a key the statement revokes as the caller knows it (opened here, and disposed with the listed ones).
    private static ECDsa? KeyFor(string kid, KeySetClaims claims, Dictionary<string, ECDsa> listed, IReadOnlyList<TrustKey> known)
    {
        if (listed.TryGetValue(kid, out var key)) return key;
        if (!claims.Revoked.Contains(kid) || known.FirstOrDefault(k => k.Kid == kid) is not { } jwk) return null;
        try
        {
            var opened = jwk.ToECDsa();
            listed[kid] = opened;
            return opened;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private static KeySetClaims? Refuse(string why, out string? problem)
    {
        problem = why;
        return null;
    }
}
