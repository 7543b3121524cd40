using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Leases;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Disputes;

/// <summary>What became of a dispute operation.</summary>
internal abstract record DisputeOutcome
{
    public sealed record Done(Dispute Dispute) : DisputeOutcome;
    public sealed record Refused(int Status, string Title, string Detail) : DisputeOutcome;

    public static Refused NotFound(string what) => new(404, "Not found", what);
}

/// <summary>A dispute as opened: by the borrower from the phone, or by staff.</summary>
internal sealed record DisputeRequest(DisputeKind? Kind, string? TransactionReference, string? Text)
{
    public Errors Validate() => new Errors()
        .Check(Kind is not null && Enum.IsDefined(Kind.Value), "kind", "kind must be Paid (\"I have paid\", with transactionReference) or Other (with text).")
        .Text(TransactionReference, "transactionReference", 64, required: Kind == DisputeKind.Paid)
        .Text(Text, "text", 1000, required: Kind == DisputeKind.Other, lines: true);
}

/// <summary>
/// Opens, resolves and expires disputes. Opening one puts its instant on the plan and reviews the plan in the same
/// transaction, so a lock warning already given moves past the dispute's bound at once (the borrower sees the new
/// instant); resolving or expiring it takes the instant off and reviews again. Each is audited.
/// </summary>
internal sealed class DisputeDesk(LienDb db, LeaseIssuer leases, AuditTrail audit, TimeProvider time)
{
    /// <summary>Opens a dispute of the device's active plan, from the phone (the actor is "device").</summary>
    public Task<DisputeOutcome> OpenForDeviceAsync(Guid deviceId, DisputeRequest body, CancellationToken ct) =>
        OpenAsync(p => p.DeviceId == deviceId, null, body, "device", ct);

    /// <summary>Opens a dispute of one of the lender's plans, for staff.</summary>
    public Task<DisputeOutcome> OpenForPlanAsync(Guid lenderId, Guid planId, DisputeRequest body, string actor, CancellationToken ct) =>
        OpenAsync(p => p.Id == planId, lenderId, body, actor, ct);

    private Task<DisputeOutcome> OpenAsync(System.Linq.Expressions.Expression<Func<Plan, bool>> which, Guid? lenderId, DisputeRequest body, string actor,
        CancellationToken ct) =>
        db.InTransactionAsync<DisputeOutcome>(async () =>
        {
            var plan = await db.Plans.Include(p => p.Installments).Where(which)
                .Where(p => p.Lifecycle == PlanLifecycle.Active && (lenderId == null || p.LenderId == lenderId)).FirstOrDefaultAsync(ct);
            if (plan is null) return DisputeOutcome.NotFound(lenderId is null ? "This device has no active plan to dispute." : "No such active plan.");
            if (plan.DisputeOpenedAt is not null)
                return new DisputeOutcome.Refused(409, "Dispute already open", "This plan already has an open dispute; the lender will resolve it.");
            await db.LockLenderIfRedoingAsync(plan.LenderId, ct);
            var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == plan.LenderId, ct);
            // Whole seconds, as leases are: the bound the plan's review wakes at is the stored one on either database.
            var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
            var dispute = new Dispute
            {
                Id = Guid.CreateVersion7(now),
                LenderId = plan.LenderId,
                PlanId = plan.Id,
                DeviceId = plan.DeviceId,
                Kind = body.Kind!.Value,
                TransactionReference = body.TransactionReference?.Trim(),
                Text = body.Text?.Trim(),
                OpenedBy = actor,
                OpenedAt = now,
                ExpiresAt = now + lender.Profile().DisputeHold,
                State = DisputeState.Open,
            };
            db.Set<Dispute>().Add(dispute);
            plan.DisputeOpenedAt = now;
            await audit.RecordAsync(plan.LenderId, actor, AuditAction.DisputeOpened, $"plan:{plan.Id}",
                dispute.Kind == DisputeKind.Paid ? $"Paid, transaction {dispute.TransactionReference}." : dispute.Text, lender.PolicyProfile,
                new { dispute = dispute.Id, kind = dispute.Kind, expiresAt = dispute.ExpiresAt }, ct);
            await leases.ReviewPlanAsync(plan, "dispute opened", actor, ct);
            return new DisputeOutcome.Done(dispute);
        }, ct);

    /// <summary>Resolves an open dispute with staff's reason.</summary>
    public Task<DisputeOutcome> ResolveAsync(Guid lenderId, Guid disputeId, string reason, string actor, CancellationToken ct) =>
        db.InTransactionAsync<DisputeOutcome>(async () =>
        {
            var dispute = await db.Set<Dispute>().FirstOrDefaultAsync(d => d.Id == disputeId && d.LenderId == lenderId, ct);
            if (dispute is null) return DisputeOutcome.NotFound("No such dispute.");
            if (dispute.State != DisputeState.Open)
                return new DisputeOutcome.Refused(409, "Dispute closed", $"The dispute is already {dispute.State.ToString().ToLowerInvariant()}.");
            var plan = await db.Plans.Include(p => p.Installments).FirstAsync(p => p.Id == dispute.PlanId, ct);
            await CloseAsync(dispute, plan, DisputeState.Resolved, reason.Trim(), actor, ct);
            return new DisputeOutcome.Done(dispute);
        }, ct);

    /// <summary>
    /// Marks the plan's open dispute Expired once its bound has passed (the plan's review wakes at it), in the caller's unit
    /// of work; the caller reviews the plan after. A plan with no open dispute costs nothing.
    /// </summary>
    public async Task ExpireIfDueAsync(Plan plan, CancellationToken ct)
    {
        if (plan.DisputeOpenedAt is null) return;
        var now = time.GetUtcNow();
        var dispute = await db.Set<Dispute>().FirstOrDefaultAsync(d => d.PlanId == plan.Id && d.State == DisputeState.Open, ct);
        if (dispute is null) { plan.DisputeOpenedAt = null; return; }
        if (dispute.ExpiresAt > now) return;
        dispute.State = DisputeState.Expired;
        dispute.ClosedAt = now;
        dispute.ClosedBy = "scheduler";
        plan.DisputeOpenedAt = null;
        await audit.RecordAsync(dispute.LenderId, "scheduler", AuditAction.DisputeExpired, $"plan:{plan.Id}",
            "Not resolved within the profile's bound.", data: new { dispute = dispute.Id }, ct: ct);
    }

    private async Task CloseAsync(Dispute dispute, Plan plan, DisputeState state, string reason, string actor, CancellationToken ct)
    {
        dispute.State = state;
        dispute.ClosedAt = time.GetUtcNow();
        dispute.ClosedBy = actor;
        dispute.Resolution = reason;
        plan.DisputeOpenedAt = null;
        await audit.RecordAsync(dispute.LenderId, actor, AuditAction.DisputeResolved, $"plan:{plan.Id}", reason, data: new { dispute = dispute.Id }, ct: ct);
        await leases.ReviewPlanAsync(plan, "dispute resolved", actor, ct);
    }
}
