using System.Buffers.Text;
using System.Text.Json;

namespace Lien.Protocol;

/// <summary>
/// What a payoff certificate says: the lender (by id and name) released the phone with these IMEIs, financed under the
/// plan with this pay reference, paid off on this date (the lender's local date). A compact JWS (ES256, header
/// <c>typ</c> <see cref="MediaType"/>) by the lender's signing key, checked with the lender's published keys.
/// </summary>
public sealed record PayoffCertificateClaims(
    Guid CertificateId,
    Guid LenderId,
    string LenderName,
    string PlanReference,
    IReadOnlyList<string> Imeis,
    DateOnly PaidOffOn,
    DateTimeOffset ReleasedAt)
{
    /// <summary>The JWS <c>typ</c> of a payoff certificate: never confused with a lease, which the same key signs.</summary>
    public const string MediaType = "lien-payoff-certificate+jwt";

    /// <summary>The longest certificate JWS read: a certificate is a few hundred bytes.</summary>
    public const int MaxLength = 4096;

    /// <summary>The claims of <paramref name="jws"/> when it verifies with one of <paramref name="keys"/>; null, with why, otherwise.</summary>
    public static PayoffCertificateClaims? Verify(string jws, IReadOnlyList<TrustKey> keys, out string? problem)
    {
        problem = null;
        if (jws.Length > MaxLength) return Refuse("malformed: longer than a certificate", out problem);
        var result = Jws.Verify(jws, kid => keys.FirstOrDefault(k => k.Kid == kid)?.ToECDsa(), MediaType);
        if (!result.Valid || result.Payload is null) return Refuse(result.Reason ?? "does not verify", out problem);
        var claims = Read(result.Payload);
        return claims ?? Refuse("malformed: the payload is not a payoff certificate", out problem);
    }

    /// <summary>
    /// The claims of <paramref name="jws"/> read WITHOUT checking its signature: only to find which lender's keys to
    /// check it with. Null when it cannot be read.
    /// </summary>
    public static PayoffCertificateClaims? ReadUnverified(string jws)
    {
        if (string.IsNullOrEmpty(jws) || jws.Length > MaxLength) return null;
        var parts = jws.Split('.');
        if (parts.Length != 3) return null;
        try
        {
            return Read(Base64Url.DecodeFromChars(parts[1]));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static PayoffCertificateClaims? Read(byte[] payload)
    {
        try
        {
            var claims = JsonSerializer.Deserialize<PayoffCertificateClaims>(payload, LeaseClaims.Json);
            // Every field is required: a payload missing one is not a certificate.
            return claims is { LenderName: not null, PlanReference: not null, Imeis: { Count: > 0 } } && claims.Imeis.All(i => i is not null)
                ? claims
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static PayoffCertificateClaims? Refuse(string why, out string? problem)
    {
        problem = why;
        return null;
    }
}
