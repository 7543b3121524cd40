using Lien.Protocol;
using Lien.Server.Audit;
using Lien.Server.Codes;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.AgentApi;

/// <summary>What became of an enrollment whose proof of key possession held.</summary>
internal abstract record EnrollmentOutcome
{
    public sealed record Enrolled(EnrollResponse Answer) : EnrollmentOutcome;

    /// <summary>No lender ever registered these IMEIs.</summary>
    public sealed record NotRegistered : EnrollmentOutcome;

    /// <summary>The IMEIs belong to two different live registrations.</summary>
    public sealed record Ambiguous : EnrollmentOutcome;
}

/// <summary>
/// A device enrolling by its IMEIs with a fresh key: it gets its current lease, a token for the new key, the lender's
/// trust keys and (sealed to that key) its offline-code secret. A later enrollment retires the earlier one's token.
/// </summary>
internal sealed class Enrollment(LienDb db, DeviceTokens tokens, CodeIssuer codes, AuditTrail audit, StreamHub hub, TimeProvider time)
{
    /// <summary>Enrolls the device that <paramref name="imeis"/> (already checked) name, with <paramref name="publicKey"/>
    /// (the SubjectPublicKeyInfo whose possession the request proved) as its key from now on.</summary>
    public Task<EnrollmentOutcome> EnrollAsync(IReadOnlyList<string> imeis, byte[] publicKey, CancellationToken ct) =>
        db.InTransactionAsync<EnrollmentOutcome>(async () =>
        {
            var claims = await db.DeviceImeis.AsNoTracking().Where(c => imeis.Contains(c.Imei)).ToListAsync(ct);
            var live = claims.Where(c => c.ReleasedAt is null).Select(c => c.DeviceId).Distinct().ToList();
            if (live.Count > 1) return new EnrollmentOutcome.Ambiguous();
            // No live registration: a released phone is told it is free (the most recent release wins).
            var deviceId = live.Count == 1 ? live[0] : claims.OrderByDescending(c => c.ReleasedAt).Select(c => (Guid?)c.DeviceId).FirstOrDefault();
            if (deviceId is null) return new EnrollmentOutcome.NotRegistered();
            var device = await db.Devices.FirstAsync(d => d.Id == deviceId, ct);
            var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == device.LenderId, ct);
            var reenroll = device.EnrolledAt is not null;
            device.PublicKey = publicKey;
            device.EnrolledAt = time.GetUtcNow();
            device.TokenEpoch++;
            await hub.EnrolledAsync(db, device.Id, device.TokenEpoch, ct); // the earlier enrollment's stream ends on commit
            await audit.RecordAsync(device.LenderId, $"device:{device.Id}", reenroll ? AuditAction.DeviceReEnrolled : AuditAction.DeviceEnrolled,
                $"device:{device.Id}", reenroll ? "The device enrolled again with a new key (factory reset or reinstall)." : null, ct: ct);
            var now = time.GetUtcNow();
            // The code secret travels only here, sealed to the key that just proved itself.
            var offline = new OfflineCodes(SealedCodeSecret.Seal(codes.EnsureSecret(device), publicKey, device.Id), device.CodeStartingCode,
                device.CodeCount, lender.CodeRestrictedDigitSet, lender.CodeTimeDivider);
            return new EnrollmentOutcome.Enrolled(new EnrollResponse(device.Id, device.LenderId, tokens.Issue(device.Id, device.TokenEpoch),
                device.LeaseSeq, device.LeaseJws, lender.TrustKeys(), AgentApiEndpoints.NextCheckIn(now, device.LeaseMode, device.LeaseUnlockedUntil),
                now, offline));
        }, ct);
}
