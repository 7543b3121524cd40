using Lien.Protocol;
using Lien.Server.Audit;
using Lien.Server.Codes;
using Lien.Server.DeviceTrust;
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

    /// <summary>The phone did not show what its lender's enrollment policy asks for: nothing changed.</summary>
    public sealed record Refused(Guid LenderId, Guid DeviceId, string Reason) : EnrollmentOutcome;
}

/// <summary>
/// An enrollment as the server checks it: the IMEIs, the key whose possession the request proved (SPKI), the
/// challenge it spends, the device's nonce, and what it showed for the lender's policy — an enrollment token and/or
/// the key's verified attestation.
/// </summary>
internal sealed record EnrollmentClaim(IReadOnlyList<string> Imeis, byte[] PublicKey, byte[] Challenge, DateTimeOffset ChallengeExpiresAt,
    string Nonce, string? EnrollmentToken, AttestationEvidence? Attestation);

/// <summary>
/// A device enrolling by its IMEIs with a fresh key. When it shows what its lender's <see cref="EnrollmentPolicy"/>
/// asks for, it gets its current lease, a token for the new key, the lender's key-set statement and (sealed to that key)
/// its offline-code secret and check-in answer key, and the earlier enrollment's token and stream end. When it does not, nothing changes: the
/// genuine phone's token, stream and secret stay as they were.
/// </summary>
internal sealed class DeviceEnrollment(LienDb db, DeviceTokens tokens, CodeIssuer codes, EnrollmentTokenIssuer enrollmentTokens, AuditTrail audit,
    StreamHub hub, AnswerKeys answerKeys, EnrollmentChallenges challenges, SigningKeys signingKeys, TimeProvider time)
{
    public Task<EnrollmentOutcome> EnrollAsync(EnrollmentClaim claim, CancellationToken ct) =>
        db.InTransactionAsync<EnrollmentOutcome>(async () =>
        {
            var imeis = claim.Imeis;
            // The live registration of these IMEIs, in one round trip (two: the registration is ambiguous).
            var live = await (from c in db.DeviceImeis
                              where c.ReleasedAt == null && imeis.Contains(c.Imei)
                              join d in db.Devices on c.DeviceId equals d.Id
                              select d).Distinct().OrderBy(d => d.Id).Take(2).ToListAsync(ct); // any two: the order only says which
            if (live.Count > 1) return new EnrollmentOutcome.Ambiguous();
            // No live registration: a released phone is told it is free (the most recent release wins).
            var device = live.Count == 1 ? live[0] : await ReleasedAsync(imeis, ct);
            if (device is null) return new EnrollmentOutcome.NotRegistered();
            var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == device.LenderId, ct);

            // A challenge lets one enrollment in; a captured request presented again is refused. Looked for only when this
            // unit of work is redone: the first time, spending it (a row with the challenge as key) conflicts if it was spent.
            var challengeId = claim.Challenge[9..];
            if (db.Redoing && await db.SpentChallenges.AnyAsync(c => c.Id == challengeId, ct))
                return new EnrollmentOutcome.Refused(lender.Id, device.Id, "the challenge was used by an earlier enrollment; ask for a new one.");
            var refusal = Refusal(lender.EnrollmentPolicy, device, claim);
            if (refusal is null && lender.EnrollmentPolicy == EnrollmentPolicy.EnrollmentToken && device.ReleasedAt is null)
                refusal = await enrollmentTokens.SpendAsync(device.Id, claim.EnrollmentToken, ct);
            if (refusal is not null) return new EnrollmentOutcome.Refused(lender.Id, device.Id, refusal);
            var now = time.GetUtcNow();
            // Spent challenges are kept until they expire; the expired are cleared now and then, not by every enrollment.
            if (challenges.SweepDue(now)) await db.SpentChallenges.Where(c => c.ExpiresAt < now).ExecuteDeleteAsync(ct);
            db.SpentChallenges.Add(new SpentChallenge { Id = challengeId, ExpiresAt = claim.ChallengeExpiresAt });

            var reenroll = device.EnrolledAt is not null;
            device.PublicKey = claim.PublicKey;
            device.EnrolledAt = now;
            device.EnrolledWith = claim.Attestation?.Summary() ?? (lender.EnrollmentPolicy == EnrollmentPolicy.EnrollmentToken ? "enrollment token" : "open");
            device.TokenEpoch++;
            hub.Enrolled(db, device.Id, device.TokenEpoch); // the earlier enrollment's stream ends on commit
            await audit.RecordAsync(device.LenderId, $"device:{device.Id}", reenroll ? AuditAction.DeviceReEnrolled : AuditAction.DeviceEnrolled,
                $"device:{device.Id}", reenroll ? "The device enrolled again with a new key (factory reset or reinstall)." : null,
                data: new { with = device.EnrolledWith }, ct: ct);
            // A fresh code secret for each enrollment; it travels only here, sealed to the key that just proved itself (with
            // the answer key: one agreement for both).
            using var sealer = new DeviceSealer(claim.PublicKey);
            var offline = new OfflineCodes(sealer.CodeSecret(codes.NewSecret(device), device.Id), device.CodeStartingCode,
                device.CodeCount, lender.CodeRestrictedDigitSet, lender.CodeTimeDivider);
            var signingKey = await signingKeys.ActiveAsync(db, lender, ct);
            return new EnrollmentOutcome.Enrolled(new EnrollResponse(device.Id, device.LenderId, tokens.Issue(device.Id, device.TokenEpoch),
                device.LeaseSeq, device.LeaseJws, SigningKeys.Statement(lender.KeySetJson),
                AgentApiEndpoints.NextCheckIn(now, device.LeaseMode, device.LeaseUnlockedUntil), now, offline,
                answerKeys.Seal(device.Id, device.TokenEpoch, sealer), claim.Nonce), signingKey);
        }, ct);

    private async Task<Devices.Device?> ReleasedAsync(IReadOnlyList<string> imeis, CancellationToken ct)
    {
        var released = await db.DeviceImeis.AsNoTracking().Where(c => imeis.Contains(c.Imei) && c.ReleasedAt != null)
            .OrderByDescending(c => c.ReleasedAt).Select(c => (Guid?)c.DeviceId).FirstOrDefaultAsync(ct);
        return released is { } id ? await db.Devices.FirstAsync(d => d.Id == id, ct) : null;
    }

    /// <summary>Records a refused enrollment on the lender's audit trail, in a unit of work of its own (the refused one changed nothing).</summary>
    public Task RecordRefusalAsync(EnrollmentOutcome.Refused refused, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            await audit.RecordAsync(refused.LenderId, "device-api", AuditAction.DeviceEnrollmentRefused, $"device:{refused.DeviceId}", refused.Reason, ct: ct);
            return true;
        }, ct);

    // What the policy asks for beyond the enrollment token (which is spent separately, as it writes). A released phone
    // may always enroll: all it can learn is that it is free. An attestation that names IMEIs must name this phone's.
    private static string? Refusal(EnrollmentPolicy policy, Devices.Device device, EnrollmentClaim claim)
    {
        if (claim.Attestation is { Imeis: var attested } && attested.Any(i => !device.Imeis.Contains(i)))
            return "the attested IMEI is not the IMEI registered for this device.";
        if (device.ReleasedAt is not null || policy != EnrollmentPolicy.Attested) return null;
        if (claim.Attestation is null)
            return "this lender enrolls only phones whose key is attested by secure hardware (Android Key Attestation); no attestation was sent.";
        return claim.Attestation.Imeis.Count == 0
            ? "this lender enrolls only phones that attest their IMEI; the attestation names none (the agent must request device-ID attestation)."
            : null;
    }
}
