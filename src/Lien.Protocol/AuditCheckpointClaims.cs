using System.Text.Json;

namespace Lien.Protocol;

/// <summary>
/// What a signed audit checkpoint says: the lender, its audit chain's head event (seq and hash), and when it was signed.
/// A compact JWS (ES256, header <c>typ</c> <see cref="MediaType"/>) by the lender's signing key, checked with its published keys.
/// </summary>
public sealed record AuditCheckpointClaims(Guid LenderId, long Seq, string Hash, DateTimeOffset At)
{
    /// <summary>The JWS <c>typ</c> of a checkpoint: never confused with a lease, which the same key signs.</summary>
    public const string MediaType = "lien-audit-checkpoint+jwt";

    /// <summary>The claims of <paramref name="jws"/> when it verifies with one of <paramref name="keys"/>; null otherwise.</summary>
    public static AuditCheckpointClaims? Verify(string jws, IReadOnlyList<TrustKey> keys)
    {
        var result = Jws.Verify(jws, kid => keys.FirstOrDefault(k => k.Kid == kid)?.ToECDsa(), MediaType);
        if (!result.Valid || result.Payload is null) return null;
        try
        {
            return JsonSerializer.Deserialize<AuditCheckpointClaims>(result.Payload, LeaseClaims.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
