using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Devices;
using Lien.Server.Lenders;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Leases;

/// <summary>
/// Runs the policy for one device and, when the lease it wants differs from the one held, writes lease seq + 1 in
/// the caller's unit of work — the same transaction as its cause (a payment, a reversal, a plan change, a review) —
/// and hands it to <see cref="ILeaseDelivery"/>.
/// </summary>
internal sealed class LeaseIssuer(LienDb db, LeaseSigner signer, SigningKeys signingKeys, AuditTrail audit, ILeaseDelivery delivery,
    IPayoffRelease payoff, IEnumerable<INoticeListener> noticeListeners, PublicUrls urls, TimeProvider time) : IRevokedKeyLeases
{
    private readonly Dictionary<Guid, LenderKey> _activeKeys = [];
    private readonly INoticeListener[] _listeners = [.. noticeListeners];

    // A notice is new when it says something else (another kind, installment or deadline); a changed amount or a
    // renewal that carries it again is not news to send again.
    private static bool IsNew(Notice notice, Notice? held) =>
        held is null || held.Kind != notice.Kind || held.Installment != notice.Installment || held.Deadline != notice.Deadline;

    // The device, its lender and the lease it holds, in one query: what every review of a plan starts from.
    private static readonly CompiledQuery<Func<LienDb, Guid, CancellationToken, Task<ReviewSubject?>>> SubjectOf = new(() => EF.CompileAsyncQuery(
        (LienDb db, Guid deviceId, CancellationToken ct) =>
            (from d in db.Devices.AsTracking()
             where d.Id == deviceId
             join l in db.Lenders on d.LenderId equals l.Id
             // A plain join on the lease's key: a FirstOrDefault here would rank every lease of the table.
             join x in db.Leases on new { d.Id, Seq = d.LeaseSeq } equals new { Id = x.DeviceId, x.Seq } into held
             from x in held.DefaultIfEmpty()
             select new ReviewSubject(d, l, x))
            .FirstOrDefault()));

    private static readonly CompiledQuery<Func<LienDb, Guid, long, CancellationToken, Task<LeaseRecord?>>> LeaseAt = new(() => EF.CompileAsyncQuery(
        (LienDb db, Guid deviceId, long seq, CancellationToken ct) => db.Leases.AsNoTracking().FirstOrDefault(l => l.DeviceId == deviceId && l.Seq == seq)));

    /// <summary>What a review of a plan starts from: its device (tracked: the review changes it), its lender and the lease the device holds (none before its first; both only read).</summary>
    internal sealed record ReviewSubject(Device Device, Lender Lender, LeaseRecord? Held);

    /// <summary>
    /// Reviews a plan: its device, lender and held lease are <paramref name="subject"/> when the caller read them with the
    /// plan (the payment path: one query for both), else loaded here (tracked, in the caller's unit of work).
    /// </summary>
    public async Task<(PolicyDecision Decision, Device Device, Lender Lender)> ReviewPlanAsync(Plan plan, string cause, string actor, CancellationToken ct,
        ReviewSubject? subject = null)
    {
        var (device, lender, held) = subject ?? await SubjectOf.For(db)(db, plan.DeviceId, ct) ?? throw new InvalidOperationException($"Plan {plan.Id} names no device.");
        var decision = await DecideAsync(device, lender, plan, held, cause, actor, ct);
        return (decision, device, lender);
    }

    /// <summary>What the policy would decide for <paramref name="plan"/> now under <paramref name="holds"/>, writing nothing.</summary>
    public async Task<PolicyDecision> PreviewPlanAsync(Plan plan, PlanHolds holds, CancellationToken ct)
    {
        var (device, lender, held) = await SubjectOf.For(db)(db, plan.DeviceId, ct) ?? throw new InvalidOperationException($"Plan {plan.Id} names no device.");
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        return Policy.Evaluate(new PolicyInput(lender.Terms(), plan.Terms(urls.PayPage(plan.PayToken)), plan.PaidTotal, device.ReleasedAt is not null, held is null ? null : Held(held), holds), now);
    }

    public async Task<PolicyDecision> ReviewAsync(Device device, Lender lender, Plan? plan, string cause, string actor, CancellationToken ct) =>
        await DecideAsync(device, lender, plan, device.LeaseSeq == 0 ? null : await LeaseAt.For(db)(db, device.Id, device.LeaseSeq, ct), cause, actor, ct);

    private async Task<PolicyDecision> DecideAsync(Device device, Lender lender, Plan? plan, LeaseRecord? held, string cause, string actor, CancellationToken ct)
    {
        // Whole seconds: what the device is told is what the database keeps.
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        var current = held is null ? null : Held(held);
        // A plan gets its pay link at its first review; a plan older than pay links, at its next one.
        if (plan is not null) plan.PayToken ??= Plan.NewPayToken();
        var input = new PolicyInput(lender.Terms(), plan?.Terms(urls.PayPage(plan.PayToken)), plan?.PaidTotal ?? 0,
            device.ReleasedAt is not null, current, plan?.Holds());
        var decision = Policy.Evaluate(input, now);

        if (plan is not null)
        {
            plan.NextReviewAt = decision.NextReviewAt;
            plan.Note(decision.Plan);
            plan.Version++;
            if (decision.Plan?.Status == PlanStatus.PaidOff && plan.Lifecycle == PlanLifecycle.Active)
            {
                plan.Lifecycle = PlanLifecycle.PaidOff;
                plan.ClosedAt = now;
                await audit.RecordAsync(lender.Id, actor, AuditAction.PlanPaidOff, $"plan:{plan.Id}", "Balance reached zero.", lender.PolicyProfile, ct: ct);
            }
        }
        if (decision.Mode == LeaseMode.Released && device.ReleasedAt is null)
        {
            device.ReleasedAt = now;
            // The claims may have been added in this very unit of work and not be in the database yet.
            var claims = db.DeviceImeis.Local.Where(c => c.DeviceId == device.Id).ToList();
            if (claims.Count == 0) claims = await db.DeviceImeis.Where(c => c.DeviceId == device.Id).ToListAsync(ct);
            foreach (var claim in claims) claim.ReleasedAt = now;
            if (plan is { Lifecycle: PlanLifecycle.PaidOff }) await payoff.ReleasedAsync(lender, plan, device, now, actor, ct);
        }
        if (decision.IssueNewLease)
        {
            await IssueAsync(device, lender, decision, now, cause, actor, ct);
            if (plan is not null && decision.Notice is { } notice && IsNew(notice, current?.Notice))
                foreach (var listener in _listeners)
                    await listener.NoticeIssuedAsync(db, new NoticeIssued(lender.Id, device.Id, plan.Id, notice.Kind, now, notice.AmountMinor,
                        notice.Currency, notice.Deadline, device.LeaseSeq), ct);
        }
        return decision;
    }

    /// <summary>
    /// Issues again each lease of <paramref name="lender"/>'s devices that <paramref name="kid"/> signed, unchanged but for
    /// seq, issuedAt and the signing key (the active one): what a device needs when the key that signed its lease is
    /// revoked. No policy runs, so nothing the borrower sees changes.
    /// </summary>
    public async Task<int> ResignAsync(Lender lender, string kid, string actor, CancellationToken ct)
    {
        var signed = await db.Devices.Where(d => d.LenderId == lender.Id && d.LeaseSeq > 0)
            .Join(db.Leases, d => new { d.Id, Seq = d.LeaseSeq }, x => new { Id = x.DeviceId, x.Seq }, (d, x) => new { Device = d, Lease = x })
            .Where(x => x.Lease.Kid == kid).ToListAsync(ct);
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        foreach (var (device, held) in signed.Select(x => (x.Device, Held(x.Lease))))
            await IssueAsync(device, lender, new PolicyDecision(null, held.Mode, held.UnlockedUntil, held.Screen, held.Reason, true, null, held.Notice), now,
                $"key {kid} revoked", actor, ct);
        return signed.Count;
    }

    private async Task IssueAsync(Device device, Lender lender, PolicyDecision decision, DateTimeOffset now, string cause, string actor, CancellationToken ct)
    {
        if (!_activeKeys.TryGetValue(lender.Id, out var key))
            _activeKeys[lender.Id] = key = await signingKeys.ActiveAsync(db, lender, ct);
        var seq = device.LeaseSeq + 1;
        var claims = new LeaseClaims(lender.Id, device.Id, device.Imeis, seq, now, decision.Mode, decision.UnlockedUntil, decision.Screen, decision.Reason, decision.Notice);
        var jws = signer.Sign(key, claims);
        // Its device may itself be new in this unit (an import, an enrollment): then the lease waits for the same save.
        await RawInsert.AddAsync(db, new LeaseRecord
        {
            DeviceId = device.Id,
            Seq = seq,
            LenderId = lender.Id,
            Mode = decision.Mode,
            IssuedAt = now,
            UnlockedUntil = decision.UnlockedUntil,
            ScreenJson = JsonSerializer.Serialize(decision.Screen, LeaseClaims.Json),
            Reason = decision.Reason,
            NoticeJson = decision.Notice is null ? null : JsonSerializer.Serialize(decision.Notice, LeaseClaims.Json),
            Cause = cause,
            Kid = key.Kid,
            Jws = jws,
            CreatedAt = time.GetUtcNow(),
        }, ct, unsaved: device);
        var modeChanged = device.LeaseSeq == 0 || device.LeaseMode != decision.Mode;
        device.LeaseSeq = seq;
        device.LeaseMode = decision.Mode;
        device.LeaseUnlockedUntil = decision.UnlockedUntil;
        device.LeaseJws = jws;
        if (device.EnrolledAt is not null) await delivery.LeaseWrittenAsync(db, device, seq, jws, ct);
        var action = modeChanged ? AuditAction.DeviceEntered(decision.Mode) : AuditAction.LeaseRenewed;
        await audit.RecordAsync(lender.Id, actor, action, $"device:{device.Id}", decision.Reason, lender.PolicyProfile,
            new { seq, mode = decision.Mode, unlockedUntil = decision.UnlockedUntil, cause }, ct);
    }

    private static HeldLease Held(LeaseRecord l) =>
        new(l.Mode, l.UnlockedUntil, JsonSerializer.Deserialize<LockScreen>(l.ScreenJson, LeaseClaims.Json)!, l.Reason,
            l.NoticeJson is null ? null : JsonSerializer.Deserialize<Notice>(l.NoticeJson, LeaseClaims.Json));
}
