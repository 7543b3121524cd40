using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Audit;
using Lien.Server.Devices;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Certificates;

/// <summary>What a certificate's check found: whether it verifies with its lender's published keys, why not, and what it says.</summary>
internal sealed record CertificateCheck(bool Valid, string? Problem, PayoffCertificateClaims? Claims);

/// <summary>
/// Payoff certificates: issued (signed by the lender's active key, stored, audited) in the unit of work that releases a
/// paid-off plan's device, and checked for anyone against the lender's published keys — no key needed.
/// </summary>
internal sealed class PayoffCertificates(LienDb db, SigningKeys keys, AuditTrail audit) : IPayoffRelease, IRevokedKeyCertificates
{
    public Task ReleasedAsync(Lender lender, Plan plan, Device device, DateTimeOffset releasedAt, string actor, CancellationToken ct) =>
        IssueAsync(lender, plan, device.Imeis, releasedAt, actor, ct);

    /// <summary>Issues the certificate of <paramref name="plan"/>, whose device (IMEIs <paramref name="imeis"/>) is released at <paramref name="releasedAt"/>.</summary>
    public async Task<PayoffCertificate> IssueAsync(Lender lender, Plan plan, IReadOnlyList<string> imeis, DateTimeOffset releasedAt, string actor,
        CancellationToken ct)
    {
        var key = await SigningKeys.ActiveAsync(db, lender.Id, ct);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(lender.TimeZone);
        var claims = new PayoffCertificateClaims(Guid.NewGuid(), lender.Id, lender.Name, plan.Reference, imeis,
            Policy.LocalDate(plan.ClosedAt ?? releasedAt, zone), releasedAt);
        var certificate = new PayoffCertificate
        {
            Id = claims.CertificateId,
            LenderId = lender.Id,
            PlanId = plan.Id,
            DeviceId = plan.DeviceId,
            IssuedAt = releasedAt,
            Kid = key.Kid,
            Jws = Sign(claims, key),
        };
        db.Set<PayoffCertificate>().Add(certificate);
        await audit.RecordAsync(lender.Id, actor, AuditAction.CertificateIssued, $"certificate:{certificate.Id}", "Paid off and released.",
            lender.PolicyProfile, new { plan = plan.Id, device = plan.DeviceId, claims.PaidOffOn, key.Kid }, ct);
        return certificate;
    }

    public async Task<int> ResignAsync(Lender lender, string kid, string actor, CancellationToken ct)
    {
        var signed = await db.Set<PayoffCertificate>().Where(c => c.LenderId == lender.Id && c.Kid == kid).ToListAsync(ct);
        if (signed.Count == 0) return 0;
        var key = await SigningKeys.ActiveAsync(db, lender.Id, ct);
        foreach (var certificate in signed)
        {
            // The same claims, word for word: only the signature and its key change.
            var claims = PayoffCertificateClaims.ReadUnverified(certificate.Jws)
                         ?? throw new InvalidOperationException($"Certificate {certificate.Id} cannot be read.");
            certificate.Jws = Sign(claims, key);
            certificate.Kid = key.Kid;
            await audit.RecordAsync(lender.Id, actor, AuditAction.CertificateResigned, $"certificate:{certificate.Id}", $"key {kid} revoked",
                lender.PolicyProfile, new { revoked = kid, key.Kid }, ct);
        }
        return signed.Count;
    }

    private string Sign(PayoffCertificateClaims claims, LenderKey key)
    {
        var ecdsa = keys.Open(key);
        lock (ecdsa) return Jws.Sign(JsonSerializer.SerializeToUtf8Bytes(claims, LeaseClaims.Json), ecdsa, key.Kid, PayoffCertificateClaims.MediaType);
    }

    /// <summary>Checks <paramref name="jws"/> against the published keys of the lender it names.</summary>
    public async Task<CertificateCheck> CheckAsync(string jws, CancellationToken ct)
    {
        if (PayoffCertificateClaims.ReadUnverified(jws) is not { } named)
            return new CertificateCheck(false, "This is not a Lien payoff certificate (a compact JWS of one).", null);
        var published = await db.Lenders.AsNoTracking().Where(l => l.Id == named.LenderId).Select(l => l.TrustKeysJson).FirstOrDefaultAsync(ct);
        if (published is null) return new CertificateCheck(false, "The certificate names a lender this server does not know.", null);
        var claims = PayoffCertificateClaims.Verify(jws, SigningKeys.Published(published), out var problem);
        return claims is null
            ? new CertificateCheck(false, $"The certificate does not verify with the lender's published keys: {problem}.", null)
            : new CertificateCheck(true, null, claims);
    }
}
