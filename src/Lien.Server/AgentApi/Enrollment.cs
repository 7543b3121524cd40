using Lien.Protocol;
using Lien.Server.Audit;
using Lien.Server.Codes;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.AgentApi;

/// <summary>What became of an enrollment whose proof of key possession held.</summary>
internal abstract record EnrollmentOutcome
{
    /// <summary>Enrolled: the answer, to be signed by <paramref name="SigningKey"/> (the lender's active key).</summary>
    public sealed record Enrolled(EnrollResponse Answer, LenderKey SigningKey) : EnrollmentOutcome;

    /// <summary>No lender ever registered these IMEIs.</summary>
    public sealed record NotRegistered : EnrollmentOutcome;

    /// <summary>The IMEIs belong to two different live registrations.</summary>
    public sealed record Ambiguous : EnrollmentOutcome;
}

/// <summary>
/// A device enrolling by its IMEIs with a fresh key: it gets its current lease, a token for the new key, the lender's
/// key-set statement and (sealed to that key) its offline-code secret and check-in answer key. A later enrollment
/// retires the earlier one's token and answer key.
/// </summary>
internal sealed class Enrollment(LienDb db, DeviceTokens tokens, AnswerKeys answerKeys, CodeIssuer codes, AuditTrail audit, TimeProvider time)
{
    /// <summary>Enrolls the device that <paramref name="imeis"/> (already checked) name, with <paramref name="publicKey"/>
    /// (the SubjectPublicKeyInfo whose possession the request proved) as its key from now on; the answer echoes <paramref name="nonce"/>.</summary>
    public Task<EnrollmentOutcome> EnrollAsync(IReadOnlyList<string> imeis, byte[] publicKey, string? nonce, CancellationToken ct) =>
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
            await audit.RecordAsync(device.LenderId, $"device:{device.Id}", reenroll ? AuditAction.DeviceReEnrolled : AuditAction.DeviceEnrolled,
                $"device:{device.Id}", reenroll ? "The device enrolled again with a new key (factory reset or reinstall)." : null, ct: ct);
            var now = time.GetUtcNow();
            // The code secret travels only here, sealed to the key that just proved itself.
            var offline = new OfflineCodes(SealedCodeSecret.Seal(codes.EnsureSecret(device), publicKey, device.Id), device.CodeStartingCode,
                device.CodeCount, lender.CodeRestrictedDigitSet, lender.CodeTimeDivider);
            var signingKey = await SigningKeys.ActiveAsync(db, lender.Id, ct);
            return new EnrollmentOutcome.Enrolled(new EnrollResponse(device.Id, device.LenderId, tokens.Issue(device.Id, device.TokenEpoch),
                device.LeaseSeq, device.LeaseJws, SigningKeys.Statement(lender.KeySetJson),
                AgentApiEndpoints.NextCheckIn(now, device.LeaseMode, device.LeaseUnlockedUntil), now, offline,
                answerKeys.Seal(device.Id, device.TokenEpoch, publicKey), nonce), signingKey);
        }, ct);
}
