using Lien.Server.Audit;
using Lien.Server.Devices;
using Lien.Server.Payments;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.UnmatchedPayments;

/// <summary>Money that matched no plan, as a provider's callback hands it over.</summary>
internal sealed record ArrivedPayment(string Provider, string ProviderTransactionId, string AccountReference, long Amount, string Currency,
    string? Payer, string? PayerName, DateTimeOffset ReceivedAt);

/// <summary>What became of a queue operation.</summary>
internal abstract record QueueOutcome
{
    /// <summary>Done; <see cref="Device"/> is the plan's device with its new lease when a payment was recorded.</summary>
    public sealed record Done(UnmatchedPayment Item, Device? Device = null) : QueueOutcome;

    /// <summary>The same provider transaction was held, or recorded as a payment, before: nothing new was written.</summary>
    public sealed record AlreadyHeld(UnmatchedPayment? Item) : QueueOutcome;

    public sealed record NotFound : QueueOutcome;

    /// <summary>Nothing was written; <see cref="Detail"/> says why.</summary>
    public sealed record Refused(string Detail, bool Conflict) : QueueOutcome;
}

/// <summary>
/// The unmatched-payments queue: a payment whose account reference named no plan is held (once per provider
/// transaction), and staff assign it to a plan — recorded through <see cref="PaymentLedger"/> in the same unit of work
/// as the item's change, so the phone is reviewed and unlocked at once — or mark it for refund; both need a reason and
/// are audited. Held money is never dropped, and an item is applied at most once however many staff press at once.
/// </summary>
internal sealed class UnmatchedQueue(LienDb db, PaymentLedger ledger, AuditTrail audit, TimeProvider time)
{
    private DbSet<UnmatchedPayment> Items => db.Set<UnmatchedPayment>();

    public Task<QueueOutcome> HoldAsync(Guid lenderId, ArrivedPayment arrived, PaymentMatch match, string actor, CancellationToken ct) =>
        db.InTransactionAsync<QueueOutcome>(async () =>
        {
            // Rare enough to look first: a repeat is answered with what is held, and a payment recorded is never held as well.
            {
                var held = await Items.AsNoTracking().FirstOrDefaultAsync(x => x.LenderId == lenderId && x.Provider == arrived.Provider
                    && x.ProviderTransactionId == arrived.ProviderTransactionId, ct);
                if (held is not null) return new QueueOutcome.AlreadyHeld(held);
                if (await db.Payments.AnyAsync(p => p.LenderId == lenderId && p.Provider == arrived.Provider
                        && p.ProviderTransactionId == arrived.ProviderTransactionId, ct))
                    return new QueueOutcome.AlreadyHeld(null);
            }
            var now = time.GetUtcNow();
            var item = new UnmatchedPayment
            {
                Id = Guid.CreateVersion7(now),
                LenderId = lenderId,
                Provider = arrived.Provider,
                ProviderTransactionId = arrived.ProviderTransactionId,
                AccountReference = arrived.AccountReference,
                Amount = arrived.Amount,
                Currency = arrived.Currency,
                Payer = arrived.Payer,
                PayerName = arrived.PayerName,
                ReceivedAt = arrived.ReceivedAt,
                CreatedAt = now,
                Rule = match.Rule,
                Note = match.Note,
                ProposedPlanId = match.Proposed,
                State = UnmatchedState.Open,
            };
            Items.Add(item);
            await audit.RecordAsync(lenderId, actor, AuditAction.PaymentUnmatched, $"unmatched-payment:{item.Id}", match.Note,
                data: new { item.Provider, item.ProviderTransactionId, item.AccountReference, item.Amount, item.Currency, item.Rule, proposedPlan = item.ProposedPlanId },
                ct: ct);
            return new QueueOutcome.Done(item);
        }, ct);

    /// <summary>Records the held payment for <paramref name="planId"/> and closes the item, in one unit of work.</summary>
    public async Task<QueueOutcome> AssignAsync(Guid lenderId, Guid id, Guid planId, string reason, string actor, CancellationToken ct)
    {
        var item = await Items.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id && x.LenderId == lenderId, ct);
        if (item is null) return new QueueOutcome.NotFound();
        if (item.State != UnmatchedState.Open) return Closed(item);
        UnmatchedPayment? assigned = null;
        var input = new PaymentInput(planId, null, item.Amount, item.Currency, item.Provider, item.ProviderTransactionId, item.ReceivedAt);
        var outcome = await ledger.RecordAsync(lenderId, input, actor, ct, joining: async (payment, plan) =>
        {
            // Read again inside the unit of work: another member of staff may have closed it since.
            var tracked = await Items.FirstAsync(x => x.Id == id, ct);
            if (tracked.State != UnmatchedState.Open) return $"The payment was already {Describe(tracked.State)}; nothing was recorded.";
            Close(tracked, UnmatchedState.Assigned, reason, actor);
            tracked.PlanId = plan.Id;
            tracked.PaymentId = payment.Id;
            await audit.RecordAsync(lenderId, actor, AuditAction.PaymentAssigned, $"unmatched-payment:{id}", reason,
                data: new { plan = plan.Id, payment = payment.Id, tracked.Amount, tracked.Currency, tracked.ProviderTransactionId }, ct: ct);
            assigned = tracked;
            return null;
        });
        return outcome switch
        {
            LedgerOutcome.Recorded(_, var device) => new QueueOutcome.Done(assigned!, device),
            // Another assignment of this item won the race: its payment stands, this one recorded nothing.
            LedgerOutcome.AlreadyRecorded => new QueueOutcome.Refused("The payment was already assigned; nothing was recorded.", Conflict: true),
            LedgerOutcome.Refused(LedgerRefusal.DifferentRepeat or LedgerRefusal.Withdrawn, var detail) => new QueueOutcome.Refused(detail, Conflict: true),
            LedgerOutcome.Refused(LedgerRefusal.UnknownPlan, _) => new QueueOutcome.Refused("planId names no plan of this lender.", Conflict: false),
            LedgerOutcome.Refused(_, var detail) => new QueueOutcome.Refused(detail, Conflict: false),
            var other => throw new InvalidOperationException($"Unexpected ledger outcome {other}."),
        };
    }

    /// <summary>Marks the held payment as the payer's money to give back: it is never applied to a plan afterwards.</summary>
    public Task<QueueOutcome> MarkRefundAsync(Guid lenderId, Guid id, string reason, string actor, CancellationToken ct) =>
        db.InTransactionAsync<QueueOutcome>(async () =>
        {
            var item = await Items.FirstOrDefaultAsync(x => x.Id == id && x.LenderId == lenderId, ct);
            if (item is null) return new QueueOutcome.NotFound();
            if (item.State != UnmatchedState.Open) return Closed(item);
            Close(item, UnmatchedState.RefundDue, reason, actor);
            await audit.RecordAsync(lenderId, actor, AuditAction.PaymentRefundDue, $"unmatched-payment:{id}", reason,
                data: new { item.Amount, item.Currency, item.Provider, item.ProviderTransactionId }, ct: ct);
            return new QueueOutcome.Done(item);
        }, ct);

    private void Close(UnmatchedPayment item, UnmatchedState state, string reason, string actor)
    {
        item.State = state;
        item.Reason = reason;
        item.ResolvedBy = actor;
        item.ResolvedAt = time.GetUtcNow();
        item.Version++;
    }

    private static QueueOutcome.Refused Closed(UnmatchedPayment item) =>
        new($"The payment was already {Describe(item.State)}; nothing was changed.", Conflict: true);

    private static string Describe(UnmatchedState state) => state == UnmatchedState.Assigned ? "assigned to a plan" : "marked for refund";
}
