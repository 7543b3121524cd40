using Lien.Agent;
using Lien.Protocol.Codes;
using Lien.Server.Api;
using Lien.Server.Codes;
using Lien.Server.Disputes;
using Lien.Server.Interventions;
using Lien.Server.Payments;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lien.Server.Console.Pages;

internal sealed record PaymentReview(string Amount, string Receipt, string Words, bool Over);

/// <summary>
/// One device: its story, the borrower's screen now, and the actions the user's role allows — each calls the operation
/// the API calls (<see cref="StaffActions"/>, <see cref="CodeIssuer"/>, <see cref="DisputeDesk"/>, <see cref="PaymentLedger"/>).
/// </summary>
internal sealed class DeviceModel(DeviceStory stories, StaffActions staff, CodeIssuer codes, DisputeDesk disputes, PaymentLedger ledger, TimeProvider time)
    : PageModel
{
    public DeviceFile? Story { get; private set; }
    public LockScreenView? Screen { get; private set; }
    public PlanState? Standing { get; private set; }
    public DateOnly Today { get; private set; }
    public string? Message { get; private set; }
    public string? Problem { get; private set; }
    public string? CodeDigits { get; private set; }
    public PaymentReview? PaymentReview { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken ct) => await LoadAsync(id, ct) ? Page() : NotFound();

    public Task<IActionResult> OnPostPromiseAsync(Guid id, string? until, string? reason, CancellationToken ct) =>
        ActAsync(id, ConsoleRole.Collections, reason, async (plan, why) =>
        {
            if (!DateOnly.TryParseExact(until, "yyyy-MM-dd", out var date)) return "Choose the date the borrower promised to pay by.";
            return Said(await staff.PromiseToPayAsync(User.LenderId(), plan, date, why, User.ConsoleActor(), ct), $"Promise to pay recorded: no lock before the end of {date:yyyy-MM-dd}.");
        }, ct);

    public Task<IActionResult> OnPostUnlockAsync(Guid id, string? hours, string? reason, CancellationToken ct) =>
        ActAsync(id, ConsoleRole.Operator, reason, async (_, why) => int.TryParse(hours, out var h) && h is >= 1 and <= 720
            ? Said(await staff.GoodwillUnlockAsync(User.LenderId(), id, h, why, User.ConsoleActor(), ct), $"Unlocked for {h} hours.")
            : "Hours are a whole number from 1 to 720.", ct);

    public Task<IActionResult> OnPostLockAsync(Guid id, string? reason, CancellationToken ct) =>
        ActAsync(id, ConsoleRole.Operator, reason, async (_, why) => Said(await staff.LockNowAsync(User.LenderId(), id, why, User.ConsoleActor(), ct), "Locked."), ct);

    public Task<IActionResult> OnPostReleaseAsync(Guid id, string? reason, CancellationToken ct) =>
        ActAsync(id, ConsoleRole.Admin, reason, async (_, why) => Said(await staff.ReleaseEarlyAsync(User.LenderId(), id, why, User.ConsoleActor(), ct), "Released for good."), ct);

    public Task<IActionResult> OnPostCodeAsync(Guid id, string? days, string? reason, CancellationToken ct) =>
        ActAsync(id, ConsoleRole.Collections, reason, async (_, why) =>
        {
            if (!int.TryParse(days, out var n) || n is < 1 or > 90) return "Days are a whole number from 1 to 90.";
            var outcome = await codes.IssueAsync(User.LenderId(), id, new CodeRequest(TokenType.AddTime, n, why), new CodeCaller(User.ConsoleActor(), null), ct);
            switch (outcome)
            {
                case CodeOutcome.Issued issued:
                    CodeDigits = string.Join(" ", issued.Digits.Chunk(3).Select(c => new string(c)));
                    Message = $"Code for {n} day(s) issued.";
                    return null;
                case CodeOutcome.Refused r:
                    return r.Detail;
                default:
                    return "This code needs an admin's approval first.";
            }
        }, ct);

    public Task<IActionResult> OnPostOpenDisputeAsync(Guid id, string? reason, CancellationToken ct) =>
        ActAsync(id, ConsoleRole.Collections, reason, async (plan, why) =>
            await disputes.OpenForPlanAsync(User.LenderId(), plan, new DisputeRequest(DisputeKind.Other, null, why), User.ConsoleActor(), ct) switch
            {
                DisputeOutcome.Refused r => r.Detail,
                _ => Done("Dispute opened: no lock while it is open."),
            }, ct);

    public Task<IActionResult> OnPostResolveDisputeAsync(Guid id, string? reason, CancellationToken ct) =>
        ActAsync(id, ConsoleRole.Operator, reason, async (_, why) => Story!.OpenDispute is not { } open ? "There is no open dispute."
            : await disputes.ResolveAsync(User.LenderId(), open.Id, why, User.ConsoleActor(), ct) switch
            {
                DisputeOutcome.Refused r => r.Detail,
                _ => Done("Dispute resolved."),
            }, ct);

    /// <summary>Two steps: review (the amount in words; above the balance needs a tick) and record.</summary>
    public async Task<IActionResult> OnPostPaymentAsync(Guid id, string? amount, string? receipt, string? step, string? over, CancellationToken ct)
    {
        if (!User.May(ConsoleRole.Operator)) return Forbid(IdentityConstants.ApplicationScheme);
        if (!await LoadAsync(id, ct)) return NotFound();
        if (Story!.Active is not { } plan) return Refuse("This device has no active plan.");
        if (!AmountWords.TryParse(amount, plan.Currency, out var minor)) return Refuse($"Enter the amount in {plan.Currency}, e.g. 1450 or 1450.50.");
        if (new Errors().Text(receipt, "receipt", 100, required: true).Any) return Refuse("Enter the receipt or transaction reference (up to 100 characters).");
        var isOver = minor > Standing!.Outstanding;
        if (step != "record" || (isOver && over != "yes"))
        {
            PaymentReview = new PaymentReview(amount!.Trim(), receipt!.Trim(), $"{new Lien.Protocol.Money(minor, plan.Currency)} — {AmountWords.Of(minor, plan.Currency)}", isOver);
            if (step == "record") Problem = "Tick the confirmation to record more than the outstanding balance.";
            return Page();
        }
        var outcome = await ledger.RecordAsync(User.LenderId(), new PaymentInput(plan.Id, null, minor, plan.Currency, "console", receipt!.Trim(), null), User.ConsoleActor(), ct);
        if (outcome is LedgerOutcome.Refused r) return Refuse(r.Detail);
        await LoadAsync(id, ct);
        Message = outcome is LedgerOutcome.AlreadyRecorded ? "This receipt was recorded already." : $"Payment of {new Lien.Protocol.Money(minor, plan.Currency)} recorded.";
        return Page();
    }

    private IActionResult Refuse(string problem)
    {
        Problem = problem;
        return Page();
    }

    private string? Done(string message)
    {
        Message = message;
        return null;
    }

    private string? Said(ActionOutcome outcome, string message) => outcome is ActionOutcome.Refused r ? r.Detail : Done(message);

    // Role, device (of this lender), active plan and reason first; then the action, which answers a problem or null.
    private async Task<IActionResult> ActAsync(Guid id, ConsoleRole least, string? reason, Func<Guid, string, Task<string?>> act, CancellationToken ct)
    {
        if (!User.May(least)) return Forbid(IdentityConstants.ApplicationScheme);
        if (!await LoadAsync(id, ct)) return NotFound();
        if (Story!.Active is not { } plan) return Refuse("This device has no active plan.");
        if (new Errors().Text(reason, "reason", 500, required: true, lines: true).Any) return Refuse("A reason is required (up to 500 characters).");
        var problem = await act(plan.Id, reason!.Trim());
        var (message, digits) = (Message, CodeDigits);
        await LoadAsync(id, ct);
        (Message, CodeDigits, Problem) = (message, digits, problem);
        return Page();
    }

    private async Task<bool> LoadAsync(Guid id, CancellationToken ct)
    {
        Story = await stories.ReadAsync(User.LenderId(), id, ct);
        if (Story is null) return false;
        var now = time.GetUtcNow();
        Screen = BorrowerScreen.Of(Story.Device, Story.Lender, now);
        Standing = Story.Active?.State(Story.Lender, now);
        Today = Lien.Protocol.Lending.Policy.LocalDate(now, TimeZoneInfo.FindSystemTimeZoneById(Story.Lender.TimeZone));
        return true;
    }
}
