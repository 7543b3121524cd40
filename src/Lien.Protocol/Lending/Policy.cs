using System.Globalization;

namespace Lien.Protocol.Lending;

/// <summary>The kinds of <see cref="Notice"/> (the phone's notification, the SMS template and the webhook all key on them).</summary>
public static class NoticeKind
{
    /// <summary>Days before a due date.</summary>
    public const string Reminder = "reminder";
    /// <summary>On the due date.</summary>
    public const string DueToday = "due-today";
    /// <summary>The day after the due date, while unpaid.</summary>
    public const string Overdue = "overdue";
    /// <summary>A formal notice giving a deadline to pay (rbi-2026's first notice).</summary>
    public const string FirstNotice = "first-notice";
    /// <summary>The second formal notice.</summary>
    public const string SecondNotice = "second-notice";
    /// <summary>The exact instant the device will lock unless the amount is paid.</summary>
    public const string LockWarning = "lock-warning";
    /// <summary>The device is locked.</summary>
    public const string Locked = "locked";
    /// <summary>A locked device was paid and is unlocked.</summary>
    public const string Unlocked = "unlocked";
    /// <summary>The plan is paid off.</summary>
    public const string PaidOff = "paid-off";
    /// <summary>The lender released the device.</summary>
    public const string Released = "released";
}

/// <summary>A plan's standing as the lender's operations team sees it.</summary>
public enum PlanStatus { Current, Overdue, PaidOff, Cancelled }

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

/// <summary>The lease the device holds now, as far as the policy cares (its notice is where the notice chain stands).</summary>
public sealed record HeldLease(LeaseMode Mode, DateTimeOffset? UnlockedUntil, LockScreen Screen, string Reason, Notice? Notice = null);

/// <summary>
/// What staff and the borrower put on a plan that holds a lock back: an open dispute (when it was opened), a
/// promise-to-pay (until the end of a date), a goodwill unlock (until an instant).
/// </summary>
public sealed record PlanHolds(DateTimeOffset? DisputeOpenedAt = null, DateOnly? PromisedUntil = null, DateTimeOffset? GoodwillUntil = null)
{
    /// <summary>Nothing held.</summary>
    public static readonly PlanHolds None = new();
}

/// <summary>Everything the policy reads for one device.</summary>
public sealed record PolicyInput(LenderTerms Lender, PlanTerms? Plan, long PaidTotal, bool DeviceReleased, HeldLease? Current, PlanHolds? Holds = null);

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

/// <summary>
/// What the policy wants: the lease the device should hold (with the notice the borrower should see) and when to look
/// again. <see cref="LockBlockedBy"/>: for an overdue plan that is not locked, why not (what staff are told when they ask
/// for a lock the policy does not allow).
/// </summary>
public sealed record PolicyDecision(
    PlanState? Plan,
    LeaseMode Mode,
    DateTimeOffset? UnlockedUntil,
    LockScreen Screen,
    string Reason,
    bool IssueNewLease,
    DateTimeOffset? NextReviewAt,
    Notice? Notice = null,
    string? LockBlockedBy = null);

/// <summary>
/// The pure policy: (plan, payments, profile, holds, held lease, now) → desired lease, notice and next review instant.
/// An installment is due at the end of its due date in the lender's time zone. Before a device may lock, every notice the
/// profile requires is sent in a lease — its formal notices in order, each only after the previous one's deadline, then a
/// lock warning naming the lock instant at least <see cref="PolicyProfile.LockWarning"/> ahead — and the lock instant is
/// past the grace days, past any promise-to-pay or goodwill unlock, past the bound of an open dispute, and inside the lock
/// window. The held lease's notice is where the chain stands, so the chain needs no other state.
/// </summary>
public static class Policy
{
    /// <summary>Decides the lease for one device at <paramref name="now"/>.</summary>
    public static PolicyDecision Evaluate(PolicyInput input, DateTimeOffset now)
    {
        var lender = input.Lender;
        var plan = input.Plan;
        var currency = plan?.Currency ?? "";
        var heldNotice = input.Current?.Notice;
        if (input.DeviceReleased)
            return Final(null, LeaseMode.Released, Screen(lender, plan, 0, currency, "This device has been released by the lender. It is yours."), "Released by the lender.",
                Carry(heldNotice, new Notice(NoticeKind.Released, 0, now, 0, currency, null, "Released by the lender. This device is yours.")), input.Current);
        if (plan is null || plan.Cancelled)
            return Final(plan is null ? null : StateOf(plan, input.PaidTotal, lender.TimeZone, now), LeaseMode.Unlocked,
                Screen(lender, plan, 0, currency, "This device has no active financing plan."), "No active plan.", null, input.Current);

        var state = StateOf(plan, input.PaidTotal, lender.TimeZone, now);
        if (state.Status == PlanStatus.PaidOff)
        {
            // Released only after the settlement hold: until then a reversal can still reopen the plan.
            var releaseAt = SettlementEnds(plan.PaidOffAt ?? now, lender.Profile);
            if (now >= releaseAt)
                return Final(state, LeaseMode.Released, Screen(lender, plan, 0, currency, "This device is paid off and released. It is yours."), "Paid off.",
                    Carry(heldNotice, new Notice(NoticeKind.PaidOff, 0, now, 0, currency, null, "Paid off. This device is yours.")), input.Current);
            var on = LocalDate(releaseAt, lender.TimeZone);
            var settled = string.Create(CultureInfo.InvariantCulture, $"Paid in full, thank you. This device will be released on {on:yyyy-MM-dd}, once the payment has settled.");
            return Final(state, LeaseMode.Unlocked, Screen(lender, plan, 0, currency, settled),
                string.Create(CultureInfo.InvariantCulture, $"Paid off; released at {releaseAt:yyyy-MM-ddTHH:mm:ssZ}, after the settlement hold."),
                Carry(heldNotice, new Notice(NoticeKind.PaidOff, 0, now, 0, currency, releaseAt, settled)), input.Current) with
            {
                NextReviewAt = releaseAt,
            };
        }

        var unpaid = state.Allocation.Installments.Where(i => i.Outstanding > 0).ToList();
        var holds = input.Holds ?? PlanHolds.None;
        var profile = lender.Profile;
        var zone = lender.TimeZone;
        var wakes = new List<DateTimeOffset>();
        if (state.NextDueDate is { } nextDue) wakes.Add(EndOfDay(nextDue, zone));
        var disputeEnd = holds.DisputeOpenedAt is { } opened && opened + profile.DisputeHold > now ? opened + profile.DisputeHold : (DateTimeOffset?)null;
        if (disputeEnd is { } de) wakes.Add(de);

        Step step;
        if (state.Status == PlanStatus.Current)
            step = Remind(lender, plan, state, unpaid, heldNotice, input.Current?.Mode == LeaseMode.Locked, now, wakes);
        else
        {
            var oldest = unpaid[0].Installment;
            var earliest = EarliestLock(oldest, lender, holds, now);
            // A lock goes on while the installment it was for is unpaid and nothing holds it back (a lock from before
            // notices existed has no notice, and goes on too); once that installment is paid, the next one starts its own chain.
            if (input.Current?.Mode == LeaseMode.Locked && now >= earliest && (heldNotice is null || heldNotice.Installment == oldest.Number))
                return Locked(input, state, unpaid, oldest, now, wakes);
            step = Escalate(lender, plan, state, unpaid, oldest, earliest, disputeEnd, heldNotice, now, wakes);
            if (step.Lock)
                return Locked(input, state, unpaid, oldest, now, wakes);
        }

        var lockAt = step.LockAt;
        var allowanceEnd = profile.LockWindow.AtOrAfter(now + lender.OfflineAllowance, zone);
        var halfAllowance = lender.OfflineAllowance / 2;
        var notice = step.Notice;

        // Keep the held lease while it still says the right thing and has more than half the offline allowance left.
        if (input.Current is { Mode: LeaseMode.Unlocked, UnlockedUntil: { } held }
            && (lockAt is null || held <= lockAt) && (held == lockAt || held > now + halfAllowance) && held <= allowanceEnd)
        {
            var (keepScreen, keepReason) = UnlockedContent(lender, plan, state, unpaid, held, lockAt);
            if (keepScreen == input.Current.Screen && keepReason == input.Current.Reason && notice == input.Current.Notice)
                return new PolicyDecision(state, LeaseMode.Unlocked, held, keepScreen, keepReason, false,
                    Earliest(wakes, held == lockAt ? held : held - halfAllowance, now), notice, step.BlockedBy);
        }

        var until = lockAt is { } l && l < allowanceEnd ? l : allowanceEnd;
        var (unlockedScreen, unlockedReason) = UnlockedContent(lender, plan, state, unpaid, until, lockAt);
        return new PolicyDecision(state, LeaseMode.Unlocked, until, unlockedScreen, unlockedReason, true,
            Earliest(wakes, until == lockAt ? until : until - halfAllowance, now), notice, step.BlockedBy);
    }

    // One stage of the notice chain: the notice to hold now, the lock instant it names (if any), whether to lock now.
    private sealed record Step(Notice? Notice, DateTimeOffset? LockAt, bool Lock, string? BlockedBy);

    // A current plan: the reminder of the next due date whose day has come (3 days before, on the day …), or after a
    // locked phone was paid, the word that it is unlocked.
    private static Step Remind(LenderTerms lender, PlanTerms plan, PlanState state, List<AllocatedInstallment> unpaid, Notice? held, bool wasLocked,
        DateTimeOffset now, List<DateTimeOffset> wakes)
    {
        var zone = lender.TimeZone;
        var window = lender.Profile.LockWindow;
        var next = unpaid.First(i => i.Installment.DueDate == state.NextDueDate);
        Notice? notice = null;
        foreach (var days in lender.Profile.ReminderDaysBeforeDue.OrderDescending())
        {
            var at = window.NoticeTime(next.Installment.DueDate.AddDays(-days), zone);
            if (at > now) { wakes.Add(at); break; }
            var amount = new Money(next.Outstanding, plan.Currency);
            notice = days == 0
                ? new Notice(NoticeKind.DueToday, next.Installment.Number, now, next.Outstanding, plan.Currency, EndOfDay(next.Installment.DueDate, zone),
                    $"{amount} is due today. Pay with account {plan.PayReference}.")
                : new Notice(NoticeKind.Reminder, next.Installment.Number, now, next.Outstanding, plan.Currency, EndOfDay(next.Installment.DueDate, zone),
                    $"Reminder: {amount} is due on {next.Installment.DueDate:yyyy-MM-dd}. Pay with account {plan.PayReference}.");
        }
        if (notice is null && (wasLocked || held?.Kind == NoticeKind.Unlocked))
            notice = new Notice(NoticeKind.Unlocked, 0, now, 0, plan.Currency, null, "Payment received. This device is unlocked.");
        return new Step(Carry(held, notice), null, false, "The plan is current.");
    }

    // An overdue plan: the next notice of the chain once its time has come, or the lock once the warned instant has come.
    private static Step Escalate(LenderTerms lender, PlanTerms plan, PlanState state, List<AllocatedInstallment> unpaid, Installment oldest,
        DateTimeOffset earliest, DateTimeOffset? disputeEnd, Notice? held, DateTimeOffset now, List<DateTimeOffset> wakes)
    {
        var profile = lender.Profile;
        var zone = lender.TimeZone;
        var window = profile.LockWindow;
        var formal = profile.FormalNotices;
        var ours = held is not null && held.Installment == oldest.Number;
        var rank = ours ? Rank(held!.Kind) : -1;
        var owed = unpaid[0].Outstanding;
        var overdueAt = window.NoticeTime(oldest.DueDate.AddDays(1), zone);
        var blocker = disputeEnd ?? DateTimeOffset.MinValue;

        Notice Warning(DateTimeOffset at, DateTimeOffset lockAt) => new(NoticeKind.LockWarning, oldest.Number, at, owed, plan.Currency, lockAt,
            $"This device will be locked on {Local(lockAt, zone)} unless {new Money(owed, plan.Currency)} is paid. Pay with account {plan.PayReference}.");

        // What the borrower holds while nothing new is due: the chain's notice, the due-today notice until the overdue one.
        Notice? Waiting() => ours && rank >= 0 ? held : held is { Kind: NoticeKind.DueToday } && held.Installment == oldest.Number && now < overdueAt ? held : null;
        Step Wait(DateTimeOffset next, string why)
        {
            if (rank < 0 && now >= overdueAt)
            {
                var overdue = new Notice(NoticeKind.Overdue, oldest.Number, now, state.AmountOverdue, plan.Currency, earliest,
                    $"{new Money(state.AmountOverdue, plan.Currency)} is overdue since {oldest.DueDate:yyyy-MM-dd}. Please pay with account {plan.PayReference}.");
                wakes.Add(next);
                return new Step(Carry(held, overdue), null, false, why);
            }
            wakes.Add(next);
            if (rank < 0 && overdueAt > now) wakes.Add(overdueAt);
            return new Step(Waiting(), ours && rank == 3 ? held!.Deadline : null, false, why);
        }

        if (rank == 4)
        {
            // Locked before for this installment and unlocked by a goodwill unlock or a promise: warned again before it locks again.
            var lockAt = window.AtOrAfter(Max(Max(earliest, now + profile.LockWarning), blocker), zone);
            wakes.Add(lockAt);
            return new Step(Warning(now, lockAt), lockAt, false, $"The lock warning names {Local(lockAt, zone)}.");
        }
        var index = Math.Max(rank, 0); // the formal notice next due: first (0) until it is held (rank 1), then second (1)
        if (rank < 3 && index < formal.Count)
        {
            var after = rank >= 1 ? held!.Deadline : null;
            var sendAt = window.NoticeTimeAtOrAfter(Max(window.NoticeTime(oldest.DueDate.AddDays(formal[index].DaysPastDue), zone), after ?? DateTimeOffset.MinValue), zone);
            if (now < sendAt)
                return Wait(sendAt, $"No lock before the formal notices; the next is due on {Local(sendAt, zone)}.");
            // The end of the local day the waiting time ends on: never less than the whole days, whatever daylight saving does.
            var deadline = EndOfDay(LocalDate(now.AddDays(formal[index].DaysToPay), zone), zone);
            var kind = index == 0 ? NoticeKind.FirstNotice : NoticeKind.SecondNotice;
            var words = index == 0 ? "Notice" : "Second notice";
            var notice = new Notice(kind, oldest.Number, now, state.AmountOverdue, plan.Currency, deadline,
                $"{words}: {new Money(state.AmountOverdue, plan.Currency)} is {state.DaysPastDue} days overdue. Please pay by {Local(deadline, zone)} with account {plan.PayReference}.");
            wakes.Add(deadline);
            return new Step(notice, null, false, $"No lock before the formal notice's deadline, {Local(deadline, zone)}.");
        }
        if (rank < 3)
        {
            var afterNotices = formal.Count > 0 && rank >= 1 ? held!.Deadline ?? DateTimeOffset.MinValue : DateTimeOffset.MinValue;
            var target = window.AtOrAfter(Max(Max(earliest, afterNotices), blocker), zone);
            var warnAt = target - profile.LockWarning;
            if (now < warnAt)
                return Wait(warnAt, $"No lock before a lock warning; it is due on {Local(warnAt, zone)}.");
            var lockAt = window.AtOrAfter(Max(target, now + profile.LockWarning), zone);
            wakes.Add(lockAt);
            return new Step(Warning(now, lockAt), lockAt, false, $"The lock warning names {Local(lockAt, zone)}.");
        }

        // A lock warning is held: its instant moves later when a promise, goodwill or dispute says so, never earlier.
        var warnedAt = held!.Deadline ?? now;
        var required = Max(Max(earliest, held.At + profile.LockWarning), blocker);
        if (required > warnedAt || (now >= warnedAt && !window.Contains(now, zone)))
        {
            var moved = window.AtOrAfter(Max(required, now), zone);
            if (moved == now) return new Step(held, now, true, null);
            wakes.Add(moved);
            var why = disputeEnd is not null ? "An open dispute holds the lock back." : $"The lock warning names {Local(moved, zone)}.";
            return new Step(Warning(held.At, moved), moved, false, why);
        }
        if (now >= warnedAt) return new Step(held, warnedAt, true, null);
        wakes.Add(warnedAt);
        return new Step(held with { AmountMinor = owed }, warnedAt, false, $"The lock warning names {Local(warnedAt, zone)}; no lock before it.");
    }

    private static PolicyDecision Locked(PolicyInput input, PlanState state, List<AllocatedInstallment> unpaid, Installment oldest, DateTimeOffset now,
        List<DateTimeOffset> wakes)
    {
        var lender = input.Lender;
        var plan = input.Plan!;
        // What unlocks it: the installment it is locked for (paying it unlocks at once; a later overdue one then gets its own notices).
        var due = unpaid[0].Outstanding;
        var reason = string.Create(CultureInfo.InvariantCulture,
            $"Installment {oldest.Number} was due on {oldest.DueDate:yyyy-MM-dd} and is {state.DaysPastDue} days overdue.");
        var message = "This device is locked due to an overdue installment payment.";
        var screen = Screen(lender, plan, due, plan.Currency, message);
        var notice = Carry(input.Current?.Notice, new Notice(NoticeKind.Locked, oldest.Number, now, due, plan.Currency, null,
            $"{message} Pay {new Money(due, plan.Currency)} with account {plan.PayReference} to unlock it."));
        // Reviewed again at the next local midnight: the days overdue in its reason change.
        var same = input.Current is { Mode: LeaseMode.Locked } c && c.Screen == screen && c.Reason == reason && c.Notice == notice;
        wakes.Add(EndOfDay(LocalDate(now, lender.TimeZone), lender.TimeZone));
        return new PolicyDecision(state, LeaseMode.Locked, null, screen, reason, !same, Earliest(wakes, null, now), notice);
    }

    // The first instant the profile lets the oldest unpaid installment lock: the end of its grace days, moved later by a
    // promise-to-pay (to the end of the promised date) and by a goodwill unlock still running.
    private static DateTimeOffset EarliestLock(Installment oldest, LenderTerms lender, PlanHolds holds, DateTimeOffset now)
    {
        var earliest = LockInstant(oldest, lender);
        if (holds.PromisedUntil is { } promised) earliest = Max(earliest, EndOfDay(promised, lender.TimeZone));
        if (holds.GoodwillUntil is { } goodwill && goodwill > now) earliest = Max(earliest, goodwill);
        return earliest;
    }

    private static int Rank(string kind) => kind switch
    {
        NoticeKind.Overdue => 0,
        NoticeKind.FirstNotice => 1,
        NoticeKind.SecondNotice => 2,
        NoticeKind.LockWarning => 3,
        NoticeKind.Locked => 4,
        _ => -1,
    };

    // The held notice's first-issued instant is kept while the notice is of the same kind and installment: a renewal or a
    // changed amount is not a new notice in time (a lock warning's waiting time runs from when it was first given).
    private static Notice? Carry(Notice? held, Notice? wanted)
    {
        if (wanted is null || held is null || held.Kind != wanted.Kind || held.Installment != wanted.Installment) return wanted;
        var kept = wanted with { At = held.At };
        return kept == held ? held : kept;
    }

    private static string Local(DateTimeOffset at, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(at, zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static DateTimeOffset? Earliest(List<DateTimeOffset> wakes, DateTimeOffset? renewal, DateTimeOffset now)
    {
        DateTimeOffset? best = renewal > now ? renewal : null;
        foreach (var w in wakes)
            if (w > now && (best is null || w < best)) best = w;
        return best;
    }

    /// <summary>The instant <paramref name="hour"/>:00 local on <paramref name="date"/> (the first valid instant after it, where daylight saving skipped it).</summary>
    public static DateTimeOffset LocalInstant(DateOnly date, int hour, TimeZoneInfo zone)
    {
        var local = date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified).AddHours(hour);
        while (zone.IsInvalidTime(local)) local = local.AddMinutes(15);
        return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
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
            // Due no earlier than an installment already found not overdue: not overdue either (a later day ends later), and
            // not the next due: no zone arithmetic for the rest of a long schedule (a year of daily installments).
            if (nextDue is { } notYet && row.Installment.DueDate >= notYet) continue;
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
        List<AllocatedInstallment> unpaid, DateTimeOffset until, DateTimeOffset? lockAt)
    {
        if (lockAt is null || until < lockAt)
        {
            // The deadline is the offline allowance, not a payment: the device locks only if it stays offline.
            var offline = Screen(lender, plan, 0, plan.Currency,
                "This device has been offline too long. Connect to the internet, or ask your lender for an unlock code.");
            return (offline, Reason(state, plan.Currency, "Payments are current"));
        }
        var due = unpaid[0].Outstanding;
        var screen = Screen(lender, plan, due, plan.Currency, "This device is locked due to an overdue installment payment.");
        return (screen, Reason(state, plan.Currency, state.Status == PlanStatus.Overdue ? "Payment overdue, within grace" : "Payments are current"));
    }

    private static string Reason(PlanState state, string currency, string lead) =>
        state.NextDueDate is { } next
            ? string.Create(CultureInfo.InvariantCulture, $"{lead}; next installment {new Money(state.NextDueAmount, currency)} due on {next:yyyy-MM-dd}.")
            : string.Create(CultureInfo.InvariantCulture, $"{lead}; {new Money(state.AmountOverdue, currency)} overdue.");

    private static LockScreen Screen(LenderTerms l, PlanTerms? plan, long due, string currency, string message) =>
        new(l.Name, l.LogoUrl, l.SupportPhone, l.ShortCode, l.SupportUrl, due, currency, plan?.PayReference, plan?.PayUrl, message);

    private static PolicyDecision Final(PlanState? state, LeaseMode mode, LockScreen screen, string reason, Notice? notice, HeldLease? current)
    {
        var same = current is not null && current.Mode == mode && current.UnlockedUntil is null
                   && current.Screen == screen && current.Reason == reason && current.Notice == notice;
        return new PolicyDecision(state, mode, null, screen, reason, !same, null, notice);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
