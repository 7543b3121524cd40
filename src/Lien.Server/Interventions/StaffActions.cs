using Lien.Protocol;
using Lien.Server.Audit;
using Lien.Server.Devices;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Interventions;

/// <summary>What became of a staff action: done (the plan and the lease decision after it) or refused with a problem.</summary>
internal abstract record ActionOutcome
{
    public sealed record Done(Plan Plan, PolicyDecision Decision) : ActionOutcome;
    public sealed record Refused(int Status, string Title, string Detail) : ActionOutcome;
    public sealed record Restocked(Device Device, PolicyDecision Decision) : ActionOutcome;

    public static Refused NotFound(string what) => new(404, "Not found", what);
}

/// <summary>
/// What staff may do by hand to a plan and its device, each with a reason, audited, and bounded by the lender's profile:
/// a promise-to-pay (no lock before the end of a date at most <see cref="PolicyProfile.PromiseMaxDays"/> ahead), a goodwill
/// unlock (at most <see cref="PolicyProfile.GoodwillMax"/>), a lock now (only where the policy itself would lock: it ends
/// a promise or goodwill early, never an invariant), and an early release (admin). Each runs the policy in the same
/// transaction, so the device gets its new lease at once.
/// </summary>
internal sealed class StaffActions(LienDb db, LeaseIssuer leases, AuditTrail audit, TimeProvider time)
{
    /// <summary>No lock before the end of <paramref name="until"/> (lender's local date).</summary>
    public Task<ActionOutcome> PromiseToPayAsync(Guid lenderId, Guid planId, DateOnly until, string reason, string actor, CancellationToken ct) =>
        OnPlanAsync(lenderId, p => p.Id == planId, async (plan, lender) =>
        {
            var profile = lender.Profile();
            var today = Policy.LocalDate(time.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById(lender.TimeZone));
            if (until < today || until > today.AddDays(profile.PromiseMaxDays))
                return new ActionOutcome.Refused(422, "Promise out of bounds",
                    $"until must be a date from {today:yyyy-MM-dd} to {today.AddDays(profile.PromiseMaxDays):yyyy-MM-dd} (the profile allows promises of at most {profile.PromiseMaxDays} days).");
            plan.PromisedUntil = until;
            await audit.RecordAsync(lender.Id, actor, AuditAction.PlanPromiseToPay, $"plan:{plan.Id}", reason, lender.PolicyProfile, new { until }, ct);
            return null;
        }, "promise to pay", actor, ct);

    /// <summary>Unlocked (and no lock) for <paramref name="hours"/> from now.</summary>
    public Task<ActionOutcome> GoodwillUnlockAsync(Guid lenderId, Guid deviceId, int hours, string reason, string actor, CancellationToken ct) =>
        OnPlanAsync(lenderId, p => p.DeviceId == deviceId, async (plan, lender) =>
        {
            var max = (int)lender.Profile().GoodwillMax.TotalHours;
            if (hours < 1 || hours > max)
                return new ActionOutcome.Refused(422, "Goodwill out of bounds", $"hours must be between 1 and {max} (the profile's goodwillMaxHours).");
            plan.GoodwillUntil = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds()).AddHours(hours); // whole seconds, as leases
            await audit.RecordAsync(lender.Id, actor, AuditAction.DeviceGoodwillUnlock, $"device:{plan.DeviceId}", reason, lender.PolicyProfile,
                new { hours, until = plan.GoodwillUntil }, ct);
            return null;
        }, "goodwill unlock", actor, ct);

    /// <summary>Locks now, ending any promise or goodwill unlock, only where the policy then locks; otherwise refused, nothing written.</summary>
    public Task<ActionOutcome> LockNowAsync(Guid lenderId, Guid deviceId, string reason, string actor, CancellationToken ct) =>
        OnPlanAsync(lenderId, p => p.DeviceId == deviceId, async (plan, lender) =>
        {
            var preview = await leases.PreviewPlanAsync(plan, plan.Holds() with { PromisedUntil = null, GoodwillUntil = null }, ct);
            if (preview.Mode != LeaseMode.Locked)
                return new ActionOutcome.Refused(409, "Lock not allowed",
                    $"The policy does not allow a lock now: {preview.LockBlockedBy ?? "the device is " + preview.Mode + "."} Staff cannot lock past the borrower's protections.");
            plan.PromisedUntil = null;
            plan.GoodwillUntil = null;
            await audit.RecordAsync(lender.Id, actor, AuditAction.DeviceLockedByStaff, $"device:{plan.DeviceId}", reason, lender.PolicyProfile, ct: ct);
            return null;
        }, "locked by staff", actor, ct);

    /// <summary>Releases the device for good before payoff (admin): the plan closes and the device gets its Released lease.</summary>
    public Task<ActionOutcome> ReleaseEarlyAsync(Guid lenderId, Guid deviceId, string reason, string actor, CancellationToken ct) =>
        OnPlanAsync(lenderId, p => p.DeviceId == deviceId, async (plan, lender) =>
        {
            var now = time.GetUtcNow();
            var device = await db.Devices.FirstAsync(d => d.Id == plan.DeviceId, ct);
            device.ReleasedAt = now;
            foreach (var claim in await db.DeviceImeis.Where(c => c.DeviceId == device.Id && c.ReleasedAt == null).ToListAsync(ct)) claim.ReleasedAt = now;
            plan.Cancel(now, $"Released early: {reason}");
            await audit.RecordAsync(lender.Id, actor, AuditAction.DeviceReleasedEarly, $"device:{device.Id}", reason, lender.PolicyProfile, ct: ct);
            return null;
        }, "released early", actor, ct);

    /// <summary>The lender took the phone back: its plan closes (the device gets a lease without a plan) until it is restocked.</summary>
    public Task<ActionOutcome> RepossessAsync(Guid lenderId, Guid deviceId, string reason, string actor, CancellationToken ct) =>
        OnPlanAsync(lenderId, p => p.DeviceId == deviceId, async (plan, lender) =>
        {
            var now = time.GetUtcNow();
            var device = await db.Devices.FirstAsync(d => d.Id == plan.DeviceId, ct);
            device.RepossessedAt = now;
            plan.Cancel(now, $"Repossessed: {reason}");
            await audit.RecordAsync(lender.Id, actor, AuditAction.DeviceRepossessed, $"device:{device.Id}", reason, lender.PolicyProfile,
                new { plan = plan.Id }, ct);
            return null;
        }, "repossessed", actor, ct);

    /// <summary>
    /// A repossessed phone goes into stock: its enrollment ends (the next buyer's phone enrolls afresh, as after a factory
    /// reset), and it may be financed again on a new plan; its IMEI claim stays with it, unreleased.
    /// </summary>
    public Task<ActionOutcome> RestockAsync(Guid lenderId, Guid deviceId, string reason, string actor, CancellationToken ct) =>
        db.InTransactionAsync<ActionOutcome>(async () =>
        {
            var device = await db.Devices.FirstOrDefaultAsync(d => d.Id == deviceId && d.LenderId == lenderId, ct);
            if (device is null) return ActionOutcome.NotFound("No such device.");
            if (!device.AwaitingRestock)
                return new ActionOutcome.Refused(409, "Not repossessed", "Only a repossessed device goes into stock (POST /v1/devices/{id}/repossess first).");
            var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == lenderId, ct);
            device.RestockedAt = time.GetUtcNow();
            device.TokenEpoch++;
            await audit.RecordAsync(lenderId, actor, AuditAction.DeviceRestocked, $"device:{device.Id}", reason, lender.PolicyProfile, ct: ct);
            var decision = await leases.ReviewAsync(device, lender, null, "restocked", actor, ct);
            return new ActionOutcome.Restocked(device, decision);
        }, ct);

    // Loads the lender's active plan, applies the action (null: go on), then reviews the plan: all in one transaction.
    private Task<ActionOutcome> OnPlanAsync(Guid lenderId, System.Linq.Expressions.Expression<Func<Plan, bool>> which,
        Func<Plan, Lender, Task<ActionOutcome.Refused?>> action, string cause, string actor, CancellationToken ct) =>
        db.InTransactionAsync<ActionOutcome>(async () =>
        {
            await db.LockLenderIfRedoingAsync(lenderId, ct);
            var plan = await db.Plans.Include(p => p.Installments).Where(which)
                .FirstOrDefaultAsync(p => p.LenderId == lenderId && p.Lifecycle == PlanLifecycle.Active, ct);
            if (plan is null) return ActionOutcome.NotFound("No active plan of this lender matches.");
            var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == lenderId, ct);
            if (await action(plan, lender) is { } refused) return refused;
            plan.Version++;
            var (decision, _, _) = await leases.ReviewPlanAsync(plan, cause, actor, ct);
            return new ActionOutcome.Done(plan, decision);
        }, ct);
}
