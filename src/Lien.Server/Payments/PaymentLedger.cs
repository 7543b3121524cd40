using Lien.Server.Audit;
using Lien.Server.Devices;
using Lien.Server.Leases;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Payments;

/// <summary>A payment to record, as any entry point (the API, a mobile-money callback, the console) hands it over.</summary>
internal sealed record PaymentInput(Guid? PlanId, string? PlanReference, long Amount, string Currency, string Provider,
    string ProviderTransactionId, DateTimeOffset? ReceivedAt);

/// <summary>What became of a payment or a reversal.</summary>
internal abstract record LedgerOutcome
{
    /// <summary>Written now, with the plan reviewed and any new lease issued in the same transaction.</summary>
    public sealed record Recorded(Payment Entry, Device Device) : LedgerOutcome;

    /// <summary>The same provider transaction was recorded before, with the same plan, amount and currency.</summary>
    public sealed record AlreadyRecorded(Payment Entry, Device Device) : LedgerOutcome;

    /// <summary>Nothing was written; <see cref="Detail"/> says why, for the person who sent it.</summary>
    public sealed record Refused(LedgerRefusal Reason, string Detail) : LedgerOutcome;
}

internal enum LedgerRefusal { UnknownPlan, WrongCurrency, PlanCancelled, DifferentRepeat, UnknownPayment, NotReversible, AlreadyReversed, Withdrawn }

/// <summary>
/// The installment ledger: records payments once per provider transaction and reverses them by appending, in one
/// transaction with the plan's new paid total, its review and the lease that follows. The ledger is never edited.
/// </summary>
internal sealed class PaymentLedger(LienDb db, LeaseIssuer leases, AuditTrail audit, TimeProvider time)
{
    // The payment path's queries, compiled once: no expression tree is built or looked up per payment. The plan comes with
    // what its review starts from (its device, lender and held lease, LeaseIssuer.ReviewSubject) in one query: on
    // PostgreSQL a round trip fewer per payment by plan id, on SQLite a query fewer on the one writer. Read untracked, and
    // only the plan and the device, which the review changes, are attached: the lender and the held lease are only read,
    // and tracking them was a third of the query's cost and of the save's change detection.
    private static readonly CompiledQuery<Func<LienDb, Guid, Guid, CancellationToken, Task<PlanToPay?>>> PlanById = new(() => EF.CompileAsyncQuery(
        (LienDb db, Guid lenderId, Guid id, CancellationToken ct) =>
            (from p in db.Plans.AsNoTracking()
             where p.LenderId == lenderId && p.Id == id
             join d in db.Devices on p.DeviceId equals d.Id
             join l in db.Lenders on d.LenderId equals l.Id
             join x in db.Leases on new { d.Id, Seq = d.LeaseSeq } equals new { Id = x.DeviceId, x.Seq } into held
             from x in held.DefaultIfEmpty()
             select new PlanToPay(p, new LeaseIssuer.ReviewSubject(d, l, x)))
            .FirstOrDefault()));

    // A plan named by its reference (M-Pesa's account number) is found by id after this: two queries, as before the merge.
    private static readonly CompiledQuery<Func<LienDb, Guid, string, CancellationToken, Task<Guid?>>> PlanIdByReference = new(() => EF.CompileAsyncQuery(
        (LienDb db, Guid lenderId, string reference, CancellationToken ct) =>
            db.Plans.Where(p => p.LenderId == lenderId && p.Reference == reference).Select(p => (Guid?)p.Id).FirstOrDefault()));

    private sealed record PlanToPay(Plan Plan, LeaseIssuer.ReviewSubject Subject);

    private static readonly CompiledQuery<Func<LienDb, Guid, string, string, CancellationToken, Task<Payment?>>> Existing = new(() => EF.CompileAsyncQuery(
        (LienDb db, Guid lenderId, string provider, string transactionId, CancellationToken ct) => db.Payments.AsNoTracking()
            .FirstOrDefault(p => p.LenderId == lenderId && p.Provider == provider && p.ProviderTransactionId == transactionId)));

    /// <summary>
    /// Records <paramref name="input"/> once. <paramref name="joining"/>, when given, is the caller's own change that must
    /// commit with the payment or not at all (an unmatched payment assigned, a payment request marked paid): called after
    /// every check passed and before anything is written, it answers null to go on, or why not — then nothing is written
    /// (it must itself have changed nothing).
    /// </summary>
    public Task<LedgerOutcome> RecordAsync(Guid lenderId, PaymentInput input, string actor, CancellationToken ct,
        Func<Payment, Plan, Task<string?>>? joining = null) =>
        db.InTransactionAsync<LedgerOutcome>(async () =>
        {
            await db.LockLenderIfRedoingAsync(lenderId, ct);
            var now = time.GetUtcNow();
            var planId = input.PlanId ?? await PlanIdByReference.For(db)(db, lenderId, input.PlanReference!.Trim().ToUpperInvariant(), ct);
            var toPay = planId is { } id ? await PlanById.For(db)(db, lenderId, id, ct) : null;
            if (toPay is not null)
            {
                // Each alone (no graph to walk: the query loaded no navigation), as if read tracked.
                db.Entry(toPay.Plan).State = EntityState.Unchanged;
                db.Entry(toPay.Subject.Device).State = EntityState.Unchanged;
            }
            var plan = toPay?.Plan;
            // A repeat is rare: the first attempt goes straight to the insert, and the unique key on (lender, provider,
            // transaction) turns a repeat into a conflict, redone with this lookup (so it sees the row that won).
            if (db.Redoing && await Existing.For(db)(db, lenderId, input.Provider, input.ProviderTransactionId, ct) is { } existing)
            {
                if (existing.PlanId != plan?.Id || existing.Amount != input.Amount || existing.Currency != input.Currency)
                    return new LedgerOutcome.Refused(LedgerRefusal.DifferentRepeat,
                        $"Transaction {input.ProviderTransactionId} of {input.Provider} is already recorded with a different plan, amount or currency.");
                return new LedgerOutcome.AlreadyRecorded(existing, toPay!.Subject.Device);
            }
            if (plan is not null) plan.Schedule = await Schedules.OfAsync(db, plan, ct);
            if (plan is null) return new LedgerOutcome.Refused(LedgerRefusal.UnknownPlan, "The payment names no plan of this lender; nothing was recorded.");
            if (plan.Currency != input.Currency)
                return new LedgerOutcome.Refused(LedgerRefusal.WrongCurrency,
                    $"The plan is in {plan.Currency}; a payment in {input.Currency} cannot be applied. Nothing was recorded.");
            if (plan.Lifecycle == PlanLifecycle.Cancelled)
                return new LedgerOutcome.Refused(LedgerRefusal.PlanCancelled, "The plan is cancelled; nothing was recorded.");

            var payment = new Payment
            {
                Id = Guid.CreateVersion7(now),
                LenderId = lenderId,
                PlanId = plan.Id,
                Kind = PaymentKind.Payment,
                Amount = input.Amount,
                Currency = input.Currency,
                Provider = input.Provider,
                ProviderTransactionId = input.ProviderTransactionId,
                ReceivedAt = input.ReceivedAt ?? now,
                RecordedAt = now,
                Actor = actor,
            };
            if (joining is not null && await joining(payment, plan) is { } withdrawn)
                return new LedgerOutcome.Refused(LedgerRefusal.Withdrawn, withdrawn);
            await RawInsert.AddAsync(db, payment, ct);
            plan.PaidTotal += payment.Amount;
            // Paid beyond the whole plan: recorded all the same, and the excess is the borrower's money, flagged for refund.
            var excess = Math.Min(payment.Amount, plan.PaidTotal - (plan.Price - plan.DownPayment));
            if (excess > 0)
                await audit.RecordAsync(lenderId, actor, AuditAction.PlanCreditRecorded, $"plan:{plan.Id}",
                    "Paid beyond the plan's balance: the excess is credit flagged for refund.",
                    data: new { payment = payment.Id, excess, credit = plan.PaidTotal - (plan.Price - plan.DownPayment), plan.Currency }, ct: ct);
            var device = await ApplyAsync(plan, payment, "payment", actor, ct, toPay!.Subject);
            return new LedgerOutcome.Recorded(payment, device);
        }, ct, deferTransaction: true); // on PostgreSQL: its reads, then its writes as one batch that commits as it ends

    /// <summary>Appends the reversal of payment <paramref name="paymentId"/>: a negative entry, never an edit.</summary>
    public Task<LedgerOutcome> ReverseAsync(Guid lenderId, Guid paymentId, string reason, string? providerTransactionId, string actor, CancellationToken ct) =>
        db.InTransactionAsync<LedgerOutcome>(async () =>
        {
            await db.LockLenderIfRedoingAsync(lenderId, ct);
            var original = await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == paymentId && p.LenderId == lenderId, ct);
            if (original is null) return new LedgerOutcome.Refused(LedgerRefusal.UnknownPayment, "No such payment.");
            if (original.Kind != PaymentKind.Payment)
                return new LedgerOutcome.Refused(LedgerRefusal.NotReversible, "A reversal cannot itself be reversed; record a new payment instead.");
            if (await db.Payments.AnyAsync(p => p.ReversesId == paymentId, ct))
                return new LedgerOutcome.Refused(LedgerRefusal.AlreadyReversed, "This payment has already been reversed.");
            var plan = await db.Plans.Include(p => p.Installments).FirstAsync(p => p.Id == original.PlanId, ct);
            var now = time.GetUtcNow();
            var reversal = new Payment
            {
                Id = Guid.CreateVersion7(now),
                LenderId = lenderId,
                PlanId = plan.Id,
                Kind = PaymentKind.Reversal,
                Amount = -original.Amount,
                Currency = original.Currency,
                Provider = original.Provider,
                ProviderTransactionId = providerTransactionId ?? $"{original.ProviderTransactionId}/reversal",
                ReceivedAt = now,
                RecordedAt = now,
                ReversesId = original.Id,
                Reason = reason,
                Actor = actor,
            };
            await RawInsert.AddAsync(db, reversal, ct);
            plan.PaidTotal -= original.Amount;
            // A paid-off plan owes money again; its device stays released, because Released is final.
            if (plan.Lifecycle == PlanLifecycle.PaidOff && plan.PaidTotal < plan.Installments.Sum(i => i.Amount))
            {
                plan.Lifecycle = PlanLifecycle.Active;
                plan.ClosedAt = null;
            }
            var device = await ApplyAsync(plan, reversal, "reversal", actor, ct);
            return new LedgerOutcome.Recorded(reversal, device);
        }, ct);

    private async Task<Device> ApplyAsync(Plan plan, Payment entry, string cause, string actor, CancellationToken ct, LeaseIssuer.ReviewSubject? subject = null)
    {
        await audit.RecordAsync(plan.LenderId, actor, entry.Kind == PaymentKind.Payment ? AuditAction.PaymentRecorded : AuditAction.PaymentReversed,
            $"payment:{entry.Id}", entry.Reason, data: new { plan = plan.Id, entry.Amount, entry.Currency, entry.Provider, entry.ProviderTransactionId }, ct: ct);
        var (_, device, _) = await leases.ReviewPlanAsync(plan, cause, actor, ct, subject);
        return device;
    }
}
