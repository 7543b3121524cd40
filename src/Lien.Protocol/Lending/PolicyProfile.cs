namespace Lien.Protocol.Lending;

/// <summary>
/// A formal notice of a profile (rbi-2026's first and second notices): sent once the oldest unpaid installment is
/// <see cref="DaysPastDue"/> days past due (and not before the previous notice's deadline), giving at least
/// <see cref="DaysToPay"/> whole days to pay.
/// </summary>
public sealed record FormalNotice(int DaysPastDue, int DaysToPay);

/// <summary>
/// The hours a lock may fall in, local time: from <see cref="StartHour"/> to <see cref="EndHour"/> on <see cref="Days"/>
/// (the lender's support hours: a lock falls only when the borrower can reach the lender). Unlocks never wait for it.
/// Notices take effect at <see cref="StartHour"/> on their day.
/// </summary>
public sealed record LockWindow(int StartHour, int EndHour, IReadOnlyList<DayOfWeek> Days)
{
    /// <summary>08:00–18:00, Monday to Saturday.</summary>
    public static readonly LockWindow SupportHours = new(8, 18,
        [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday, DayOfWeek.Saturday]);

    /// <summary>Whether <paramref name="at"/> falls inside the window in <paramref name="zone"/>.</summary>
    public bool Contains(DateTimeOffset at, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(at, zone);
        return Days.Contains(local.DayOfWeek) && local.Hour >= StartHour && local.Hour < EndHour;
    }

    /// <summary>The first instant at or after <paramref name="at"/> inside the window.</summary>
    public DateTimeOffset AtOrAfter(DateTimeOffset at, TimeZoneInfo zone)
    {
        if (Contains(at, zone)) return at;
        var date = Policy.LocalDate(at, zone);
        // At most a week ahead (the window has at least one day); a day whose opening hour was skipped by daylight saving
        // opens at the first valid instant after it.
        for (var i = 0; i <= 8; i++, date = date.AddDays(1))
        {
            var open = Policy.LocalInstant(date, StartHour, zone);
            if (open >= at && Contains(open, zone)) return open;
        }
        throw new InvalidOperationException("A lock window with no day in it.");
    }

    /// <summary>The first opening of the window's hours (on any day) at or after <paramref name="at"/>: when a notice of that day takes effect.</summary>
    public DateTimeOffset NoticeTimeAtOrAfter(DateTimeOffset at, TimeZoneInfo zone)
    {
        var date = Policy.LocalDate(at, zone);
        var open = Policy.LocalInstant(date, StartHour, zone);
        return open >= at ? open : Policy.LocalInstant(date.AddDays(1), StartHour, zone);
    }

    /// <summary>When a notice of <paramref name="date"/> takes effect: the window's opening hour that day.</summary>
    public DateTimeOffset NoticeTime(DateOnly date, TimeZoneInfo zone) => Policy.LocalInstant(date, StartHour, zone);
}

/// <summary>
/// A named set of rules deciding when a device may be warned and locked. The consumer-safety invariants are not part of
/// it: they hold whatever a profile says, and <see cref="Problems"/> keeps every value within <see cref="PolicyBounds"/>.
/// </summary>
/// <param name="Name">standard, rbi-2026 or custom.</param>
/// <param name="GraceDays">Whole local days after a due date before a lock may fall (it falls at the end of the last one, or later).</param>
/// <param name="ReminderDaysBeforeDue">Reminders this many days before the due date (0: on the due date).</param>
/// <param name="FormalNotices">Formal notices before any lock, in order (none for standard).</param>
/// <param name="LockWarning">A lock warning names the lock instant at least this long before it.</param>
/// <param name="DisputeHold">An open dispute blocks a new lock for at most this long after it was opened.</param>
/// <param name="PromiseMaxDays">A promise-to-pay postpones the lock until a date at most this many days ahead.</param>
/// <param name="GoodwillMax">A goodwill unlock lasts at most this long.</param>
/// <param name="LockWindow">The hours a lock may fall in.</param>
/// <param name="SettlementHold">After payoff, how long before the device is released for good (0: at once).</param>
public sealed record PolicyProfile(
    string Name,
    int GraceDays,
    IReadOnlyList<int> ReminderDaysBeforeDue,
    IReadOnlyList<FormalNotice> FormalNotices,
    TimeSpan LockWarning,
    TimeSpan DisputeHold,
    int PromiseMaxDays,
    TimeSpan GoodwillMax,
    LockWindow LockWindow,
    TimeSpan SettlementHold)
{
    /// <summary>Reminders 3 days before and on the due date, a lock warning 24 hours before, lock 3 days after.</summary>
    public static readonly PolicyProfile Standard = new("standard", 3, [3, 0], [], TimeSpan.FromHours(24), TimeSpan.FromDays(7), 14,
        TimeSpan.FromHours(72), LockWindow.SupportHours, TimeSpan.FromHours(72));

    /// <summary>
    /// India's draft rules of May 2026: a first notice at 60 days past due giving 21 days to pay, a second giving 7 more,
    /// no restriction before 90 days past due; an open grievance blocks restriction (for up to 30 days).
    /// </summary>
    public static readonly PolicyProfile Rbi2026 = new("rbi-2026", 90, [3, 0], [new(60, 21), new(81, 7)], TimeSpan.FromHours(24),
        TimeSpan.FromDays(30), 30, TimeSpan.FromHours(72), LockWindow.SupportHours, TimeSpan.FromHours(72));

    /// <summary>The profile names a lender may choose.</summary>
    public static readonly IReadOnlyList<string> Names = ["standard", "rbi-2026", "custom"];

    /// <summary>The named profile before overrides (custom starts from standard), or null.</summary>
    public static PolicyProfile? Find(string? name) => name switch
    {
        "standard" => Standard,
        "rbi-2026" => Rbi2026,
        "custom" => Standard with { Name = "custom" },
        _ => null,
    };

    /// <summary>The profile <paramref name="name"/> with the lender's <paramref name="overrides"/>, or null for an unknown name.</summary>
    public static PolicyProfile? Resolve(string? name, ProfileOverrides? overrides)
    {
        var p = Find(name);
        if (p is null || overrides is null) return p;
        var o = overrides;
        return p with
        {
            GraceDays = o.GraceDays ?? p.GraceDays,
            ReminderDaysBeforeDue = o.ReminderDaysBeforeDue?.OrderDescending().ToList() ?? p.ReminderDaysBeforeDue,
            FormalNotices = o.FormalNotices ?? p.FormalNotices,
            LockWarning = o.LockWarningHours is { } w ? TimeSpan.FromHours(w) : p.LockWarning,
            DisputeHold = o.DisputeHoldDays is { } d ? TimeSpan.FromDays(d) : p.DisputeHold,
            PromiseMaxDays = o.PromiseMaxDays ?? p.PromiseMaxDays,
            GoodwillMax = o.GoodwillMaxHours is { } g ? TimeSpan.FromHours(g) : p.GoodwillMax,
            LockWindow = o.LockWindow is { } lw
                ? new LockWindow(lw.StartHour ?? p.LockWindow.StartHour, lw.EndHour ?? p.LockWindow.EndHour, lw.Days ?? p.LockWindow.Days)
                : p.LockWindow,
            SettlementHold = o.SettlementHoldHours is { } s ? TimeSpan.FromHours(s) : p.SettlementHold,
        };
    }

    /// <summary>
    /// What is wrong with the profile <paramref name="name"/> under <paramref name="overrides"/>, as (field, message) pairs
    /// (fields as JSON paths under <c>policy</c>); empty when it may be used. A named profile may be made only more
    /// lenient than itself: rbi-2026's overrides never go below the rule.
    /// </summary>
    public static IReadOnlyList<(string Field, string Message)> Problems(string? name, ProfileOverrides? overrides)
    {
        var problems = new List<(string, string)>();
        var p = Resolve(name, overrides);
        if (p is null) return [("policyProfile", $"policyProfile must be one of: {string.Join(", ", Names)}.")];
        void Check(bool ok, string field, string message) { if (!ok) problems.Add((field, message)); }
        static bool In(double v, double lo, double hi) => v >= lo && v <= hi;
        var b = PolicyBounds.Floor;
        Check(In(p.GraceDays, b.GraceDays, PolicyBounds.MaxGraceDays), "policy.graceDays",
            $"graceDays must be between {b.GraceDays} and {PolicyBounds.MaxGraceDays}.");
        Check(p.ReminderDaysBeforeDue.Count <= 4 && p.ReminderDaysBeforeDue.All(d => In(d, 0, 30)) && p.ReminderDaysBeforeDue.Distinct().Count() == p.ReminderDaysBeforeDue.Count,
            "policy.reminderDaysBeforeDue", "reminderDaysBeforeDue must hold at most 4 distinct days, each between 0 (the due date) and 30.");
        var notices = p.FormalNotices;
        Check(notices.Count <= 2 && notices.All(n => n is not null && In(n.DaysPastDue, 1, 365) && In(n.DaysToPay, 1, 60))
              && notices.Zip(notices.Skip(1)).All(x => x.First.DaysPastDue < x.Second.DaysPastDue),
            "policy.formalNotices", "formalNotices must hold at most 2 notices in order of daysPastDue (1 to 365), each giving daysToPay between 1 and 60.");
        Check(In(p.LockWarning.TotalHours, b.LockWarning.TotalHours, 168), "policy.lockWarningHours",
            $"lockWarningHours must be between {b.LockWarning.TotalHours} and 168.");
        Check(In(p.DisputeHold.TotalDays, b.DisputeHold.TotalDays, 60), "policy.disputeHoldDays", $"disputeHoldDays must be between {b.DisputeHold.TotalDays} and 60.");
        Check(In(p.PromiseMaxDays, 0, 90), "policy.promiseMaxDays", "promiseMaxDays must be between 0 and 90.");
        Check(In(p.GoodwillMax.TotalHours, 1, 168), "policy.goodwillMaxHours", "goodwillMaxHours must be between 1 and 168.");
        var w = p.LockWindow;
        Check(In(w.StartHour, 0, 23) && In(w.EndHour, 1, 24) && w.EndHour - w.StartHour >= PolicyBounds.MinWindowHours
              && w.Days is { Count: >= PolicyBounds.MinWindowDays } && w.Days.All(Enum.IsDefined) && w.Days.Distinct().Count() == w.Days.Count,
            "policy.lockWindow", $"lockWindow must open at least {PolicyBounds.MinWindowHours} hours a day (startHour 0-23 before endHour 1-24) on at least {PolicyBounds.MinWindowDays} distinct days.");
        Check(In(p.SettlementHold.TotalHours, 0, 720), "policy.settlementHoldHours", "settlementHoldHours must be between 0 and 720 (30 days).");
        if (p.Name == Rbi2026.Name && problems.Count == 0)
        {
            var r = Rbi2026;
            Check(p.GraceDays >= r.GraceDays, "policy.graceDays", $"rbi-2026 allows no restriction before {r.GraceDays} days past due.");
            Check(overrides?.FormalNotices is null, "policy.formalNotices", "rbi-2026's notices are set by the rule; choose the custom profile for other notices.");
            Check(p.DisputeHold >= r.DisputeHold, "policy.disputeHoldDays", $"rbi-2026 lets an open grievance block restriction for at least {r.DisputeHold.TotalDays} days.");
        }
        return problems;
    }
}

/// <summary>The floor every profile stays above, whatever a lender overrides.</summary>
public static class PolicyBounds
{
    /// <summary>The most lenient-to-strictest floor: one grace day, a 24-hour lock warning, a dispute honoured for a day.</summary>
    public static readonly (int GraceDays, TimeSpan LockWarning, TimeSpan DisputeHold) Floor = (1, TimeSpan.FromHours(24), TimeSpan.FromDays(1));

    /// <summary>The longest grace a profile may give.</summary>
    public const int MaxGraceDays = 365;

    /// <summary>The fewest hours a day a lock window is open.</summary>
    public const int MinWindowHours = 4;

    /// <summary>The fewest days a week a lock window is open.</summary>
    public const int MinWindowDays = 3;
}

/// <summary>A lender's changes to its profile (a null field keeps the profile's value). Validated by <see cref="PolicyProfile.Problems"/>.</summary>
public sealed record ProfileOverrides(
    int? GraceDays = null,
    IReadOnlyList<int>? ReminderDaysBeforeDue = null,
    IReadOnlyList<FormalNotice>? FormalNotices = null,
    int? LockWarningHours = null,
    int? DisputeHoldDays = null,
    int? PromiseMaxDays = null,
    int? GoodwillMaxHours = null,
    LockWindowOverrides? LockWindow = null,
    int? SettlementHoldHours = null);

/// <summary>A lender's lock window (a null field keeps the profile's).</summary>
public sealed record LockWindowOverrides(int? StartHour = null, int? EndHour = null, IReadOnlyList<DayOfWeek>? Days = null);
