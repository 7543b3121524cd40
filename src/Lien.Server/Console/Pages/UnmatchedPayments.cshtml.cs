using Lien.Server.Api;
using Lien.Server.Payments;
using Lien.Server.Storage;
using Lien.Server.UnmatchedPayments;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Console.Pages;

/// <summary>A held payment as the queue shows it: the payer's number masked, the plan it nearly named by its reference.</summary>
internal sealed record HeldPayment(Guid Id, DateTimeOffset ReceivedAt, string Amount, string Provider, string TransactionId, string AccountReference,
    string Payer, string? Note, string? ProposedReference);

/// <summary>
/// Money that named no plan (<see cref="UnmatchedQueue"/>): staff assign it to a plan by its reference — the payment is
/// recorded and the phone unlocked at once — or mark it for refund, each with a reason (operator and above).
/// </summary>
internal sealed class UnmatchedPaymentsModel(LienDb db, UnmatchedQueue queue) : PageModel
{
    public IReadOnlyList<HeldPayment> Open { get; private set; } = [];
    public string? Message { get; private set; }
    public string? Problem { get; private set; }

    public Task OnGetAsync(CancellationToken ct) => LoadAsync(ct);

    public Task<IActionResult> OnPostAssignAsync(Guid id, string? reference, string? reason, CancellationToken ct) =>
        ActAsync(reason, ct, async why =>
        {
            var normalized = reference is { Length: <= 32 } ? AccountReferences.AsPlanReference(reference) : null;
            var planId = normalized is null ? null
                : await db.Plans.AsNoTracking().Where(p => p.LenderId == User.LenderId() && p.Reference == normalized).Select(p => (Guid?)p.Id).FirstOrDefaultAsync(ct);
            if (planId is null) return (null, "No plan of yours has that reference (e.g. LN-4K7Q2X).");
            return Said(await queue.AssignAsync(User.LenderId(), id, planId.Value, why, User.ConsoleActor(), ct), $"Assigned to {normalized}: the payment is recorded and the phone reviewed.");
        });

    public Task<IActionResult> OnPostRefundAsync(Guid id, string? reason, CancellationToken ct) =>
        ActAsync(reason, ct, async why => Said(await queue.MarkRefundAsync(User.LenderId(), id, why, User.ConsoleActor(), ct), "Marked for refund to the payer."));

    private static (string? Message, string? Problem) Said(QueueOutcome outcome, string done) => outcome switch
    {
        QueueOutcome.Done => (done, null),
        QueueOutcome.Refused r => (null, r.Detail),
        QueueOutcome.AlreadyHeld => (null, "That payment is already closed."),
        _ => (null, "No such payment in the queue."),
    };

    private async Task<IActionResult> ActAsync(string? reason, CancellationToken ct, Func<string, Task<(string? Message, string? Problem)>> act)
    {
        if (!User.May(ConsoleRole.Operator)) return Forbid(IdentityConstants.ApplicationScheme);
        (Message, Problem) = new Errors().Text(reason, "reason", 500, required: true, lines: true).Any
            ? (null, "A reason is required (up to 500 characters).")
            : await act(reason!.Trim());
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var lenderId = User.LenderId();
        var rows = await (from u in db.Set<UnmatchedPayment>().AsNoTracking()
                          where u.LenderId == lenderId && u.State == UnmatchedState.Open
                          join p in db.Plans on u.ProposedPlanId equals (Guid?)p.Id into proposed
                          from p in proposed.DefaultIfEmpty()
                          orderby u.ReceivedAt
                          select new { u, Proposed = p == null ? null : p.Reference }).Take(500).ToListAsync(ct);
        Open = rows.Select(r => new HeldPayment(r.u.Id, r.u.ReceivedAt, $"{r.u.Currency} {ConsoleCsv.Major(r.u.Amount, r.u.Currency)}", r.u.Provider,
            r.u.ProviderTransactionId, r.u.AccountReference, Phones.Masked(Phones.Normalize(r.u.Payer) ?? r.u.Payer), r.u.Note, r.Proposed)).ToList();
    }
}
