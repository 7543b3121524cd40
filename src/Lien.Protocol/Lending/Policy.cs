using System.Globalization;

namespace Lien.Protocol.Lending;

/// <summary>A plan's standing as the lender's operations team sees it.</summary>
public enum PlanStatus { Current, Overdue, PaidOff, Cancelled }

/// <summary>A named set of rules deciding when a device may be locked. Consumer-safety rules are not part of it.</summary>
public sealed record PolicyProfile(string Name, int GraceDays, IReadOnlyList<int> ReminderDaysBeforeDue)
{
    /// <summary>
    /// How long a paid-off plan's device stays Unlocked (no deadline) before it is released, so a payment reversed
    /// soon after (a typo, a charge-back) still finds the phone financed. Zero releases at once.
    /// </summary>
    public TimeSpan SettlementHold { get; init; } = TimeSpan.FromHours(72);

    /// <summary>Reminders 3 days before and on the due date; lock 3 days after it.</summary>
    public static readonly PolicyProfile Standard = new("standard", 3, [3, 0]);

    /// <summary>The profile names a lender may choose.</summary>
    public static readonly IReadOnlyList<string> Names = ["standard"];

    /// <summary>The profile called <paramref name="name"/>, or null.</summary>
    public static PolicyProfile? Find(string? name) => name switch
    {
        "standard" => Standard,
        _ => null,
    };
}

/// <summary>The lender settings the policy and the lock screen read.</summary>
public sealed record LenderTerms(
    string Name,
    string? LogoUrl,
    string? SupportPhone,
    string? ShortCode,
    string? SupportUrl,
    TimeZoneInfo TimeZone,
    TimeSpan OfflineAllowance,
    PolicyProfile Profile);

/// <summary>A plan as the policy reads it; <paramref name="PaidOffAt"/> is when its balance reached zero (null: not yet).</summary>
public sealed record PlanTerms(IReadOnlyList<Installment> Schedule, string Currency, bool Cancelled, string PayReference, string? PayUrl,
    DateTimeOffset? PaidOffAt = null);

/// <summary>The lease the device holds now, as far as the policy cares.</summary>
public sealed record HeldLease(LeaseMode Mode, DateTimeOffset? UnlockedUntil, LockScreen Screen, string Reason);

/// <summary>Everything the policy reads for one device.</summary>
public sealed record PolicyInput(LenderTerms Lender, PlanTerms? Plan, long PaidTotal, bool DeviceReleased, HeldLease? Current);

/// <summary>A plan's computed standing at one instant.</summary>
public sealed record PlanState(
    PlanStatus Status,
    int DaysPastDue,
    long AmountOverdue,
    long Outstanding,
    long Credit,
    DateOnly? NextDueDate,
    long NextDueAmount,
    Allocation Allocation);

/// <summary>What the policy wants: the lease the device should hold and when to look again.</summary>
public sealed record PolicyDecision(
    PlanState? Plan,
    LeaseMode Mode,
    DateTimeOffset? UnlockedUntil,
    LockScreen Screen,
    string Reason,
    bool IssueNewLease,
    DateTimeOffset? NextReviewAt);

/// <summary>
/// The pure policy: (plan, payments, profile, now) → desired lease and next review instant.
/// An installment is due at the end of its due date in the lender's time zone; the device may lock
/// once <see cref="PolicyProfile.GraceDays"/> whole local days have passed after that.
/// </summary>
public static class Policy
{
    /// <summary>Decides the lease for one device at <paramref name="now"/>.</summary>
    public static PolicyDecision Evaluate(PolicyInput input, DateTimeOffset now)
    {
        var lender = input.Lender;
        var plan = input.Plan;
        var currency = plan?.Currency ?? "";
        if (input.DeviceReleased)
            return Final(null, LeaseMode.Released, Screen(lender, plan, 0, currency, "This device has been released by the lender. It is yours."), "Released by the lender.", input.Current);
        if (plan is null || plan.Cancelled)
            return Final(plan is null ? null : StateOf(plan, input.PaidTotal, lender.TimeZone, now), LeaseMode.Unlocked,
                Screen(lender, plan, 0, currency, "This device has no active financing plan."), "No active plan.", input.Current);

        var state = StateOf(plan, input.PaidTotal, lender.TimeZone, now);
        if (state.Status == PlanStatus.PaidOff)
        {
            // Released only after the settlement hold: until then a reversal can still reopen the plan.
            var releaseAt = SettlementEnds(plan.PaidOffAt ?? now, lender.Profile);
            if (now >= releaseAt)
                return Final(state, LeaseMode.Released, Screen(lender, plan, 0, currency, "This device is paid off and released. It is yours."), "Paid off.", input.Current);
            var on = LocalDate(releaseAt, lender.TimeZone);
            var settling = Screen(lender, plan, 0, currency,
                string.Create(CultureInfo.InvariantCulture, $"Paid in full, thank you. This device will be released on {on:yyyy-MM-dd}, once the payment has settled."));
            return Final(state, LeaseMode.Unlocked, settling,
                string.Create(CultureInfo.InvariantCulture, $"Paid off; released at {releaseAt:yyyy-MM-ddTHH:mm:ssZ}, after the settlement hold."), input.Current) with
            {
                NextReviewAt = releaseAt,
            };
        }

        var unpaid = state.Allocation.Installments.Where(i => i.Outstanding > 0).ToList();
        var lockAt = LockInstant(unpaid[0].Installment, lender);
        if (now >= lockAt)
        {
            var due = DueToAvoidLockAt(unpaid, lender, now);
            var oldest = unpaid[0].Installment;
            var reason = string.Create(CultureInfo.InvariantCulture,
                $"Installment {oldest.Number} was due on {oldest.DueDate:yyyy-MM-dd} and is {state.DaysPastDue} days overdue.");
            var screen = Screen(lender, plan, due, currency, "This device is locked due to an overdue installment payment.");
            // Reviewed again at the next local midnight: the days overdue change, and so does the amount due once a later
            // installment passes its own lock instant (always at the end of a day). Without it a locked phone would keep
            // asking for the amount of the day it locked.
            return Final(state, LeaseMode.Locked, screen, reason, input.Current) with
            {
                NextReviewAt = EndOfDay(LocalDate(now, lender.TimeZone), lender.TimeZone),
            };
        }

        // Keep the held lease while it still says the right thing and has more than half the offline allowance left.
        var halfAllowance = lender.OfflineAllowance / 2;
        if (input.Current is { Mode: LeaseMode.Unlocked, UnlockedUntil: { } held }
            && held <= lockAt && (held == lockAt || held > now + halfAllowance))
        {
            var (keepScreen, keepReason) = UnlockedContent(lender, plan, state, unpaid, held, lockAt);
            if (keepScreen == input.Current.Screen && keepReason == input.Current.Reason)
                return new PolicyDecision(state, LeaseMode.Unlocked, held, keepScreen, keepReason, false, held == lockAt ? lockAt : held - halfAllowance);
        }

        var until = Min(lockAt, now + lender.OfflineAllowance);
        var (unlockedScreen, unlockedReason) = UnlockedContent(lender, plan, state, unpaid, until, lockAt);
        return new PolicyDecision(state, LeaseMode.Unlocked, until, unlockedScreen, unlockedReason, true,
            until == lockAt ? lockAt : until - halfAllowance);
    }

    /// <summary>A plan's status, days past due and amounts at <paramref name="now"/>.</summary>
    public static PlanState StateOf(PlanTerms plan, long paidTotal, TimeZoneInfo zone, DateTimeOffset now)
    {
        var allocation = Allocation.Of(plan.Schedule, paidTotal);
        var outstanding = allocation.Outstanding;
        if (plan.Cancelled)
            return new PlanState(PlanStatus.Cancelled, 0, 0, outstanding, allocation.Credit, null, 0, allocation);
        if (outstanding == 0)
            return new PlanState(PlanStatus.PaidOff, 0, 0, 0, allocation.Credit, null, 0, allocation);

        var today = LocalDate(now, zone);
        long overdue = 0;
        var daysPastDue = 0;
        DateOnly? nextDue = null;
        long nextDueAmount = 0;
        foreach (var row in allocation.Installments)
        {
            if (row.Outstanding == 0) continue;
            if (now >= EndOfDay(row.Installment.DueDate, zone))
            {
                if (overdue == 0) daysPastDue = today.DayNumber - row.Installment.DueDate.DayNumber;
                overdue += row.Outstanding;
            }
            else if (nextDue is null)
            {
                nextDue = row.Installment.DueDate;
                nextDueAmount = row.Outstanding;
            }
        }
        var status = overdue > 0 ? PlanStatus.Overdue : PlanStatus.Current;
        return new PlanState(status, daysPastDue, overdue, outstanding, allocation.Credit, nextDue, nextDueAmount, allocation);
    }

    /// <summary>The instant an unpaid installment allows the device to lock: the end of the grace days after its due date.</summary>
    public static DateTimeOffset LockInstant(Installment installment, LenderTerms lender) =>
        EndOfDay(installment.DueDate.AddDays(lender.Profile.GraceDays), lender.TimeZone);

    /// <summary>When a plan paid off at <paramref name="paidOffAt"/> releases its device: after the profile's settlement hold.</summary>
    public static DateTimeOffset SettlementEnds(DateTimeOffset paidOffAt, PolicyProfile profile) => paidOffAt + profile.SettlementHold;

    /// <summary>The end of <paramref name="date"/> (the next local midnight) in <paramref name="zone"/>, in UTC.</summary>
    public static DateTimeOffset EndOfDay(DateOnly date, TimeZoneInfo zone)
    {
        var local = date.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        // A few zones skip midnight when daylight saving starts; the day then ends at the first valid instant.
        while (zone.IsInvalidTime(local)) local = local.AddMinutes(15);
        return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
    }

    /// <summary>The calendar date of <paramref name="now"/> in <paramref name="zone"/>.</summary>
    public static DateOnly LocalDate(DateTimeOffset now, TimeZoneInfo zone) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);

    private static (LockScreen, string) UnlockedContent(LenderTerms lender, PlanTerms plan, PlanState state,
        List<AllocatedInstallment> unpaid, DateTimeOffset until, DateTimeOffset lockAt)
    {
        if (until < lockAt)
        {
            // The deadline is the offline allowance, not a payment: the device locks only if it stays offline.
            var offline = Screen(lender, plan, 0, plan.Currency,
                "This device has been offline too long. Connect to the internet, or ask your lender for an unlock code.");
            return (offline, Reason(state, plan.Currency, "Payments are current"));
        }
        var due = DueToAvoidLockAt(unpaid, lender, until);
        var screen = Screen(lender, plan, due, plan.Currency, "This device is locked due to an overdue installment payment.");
        return (screen, Reason(state, plan.Currency, state.Status == PlanStatus.Overdue ? "Payment overdue, within grace" : "Payments are current"));
    }

    private static string Reason(PlanState state, string currency, string lead) =>
        state.NextDueDate is { } next
            ? string.Create(CultureInfo.InvariantCulture, $"{lead}; next installment {new Money(state.NextDueAmount, currency)} due on {next:yyyy-MM-dd}.")
            : string.Create(CultureInfo.InvariantCulture, $"{lead}; {new Money(state.AmountOverdue, currency)} overdue.");

    // What must be paid so that no installment's lock instant has passed at `at`.
    private static long DueToAvoidLockAt(List<AllocatedInstallment> unpaid, LenderTerms lender, DateTimeOffset at) =>
        unpaid.Where(i => LockInstant(i.Installment, lender) <= at).Sum(i => i.Outstanding);

    private static LockScreen Screen(LenderTerms l, PlanTerms? plan, long due, string currency, string message) =>
        new(l.Name, l.LogoUrl, l.SupportPhone, l.ShortCode, l.SupportUrl, due, currency, plan?.PayReference, plan?.PayUrl, message);

    private static PolicyDecision Final(PlanState? state, LeaseMode mode, LockScreen screen, string reason, HeldLease? current)
    {
        var same = current is not null && current.Mode == mode && current.UnlockedUntil is null
                   && current.Screen == screen && current.Reason == reason;
        return new PolicyDecision(state, mode, null, screen, reason, !same, null);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
