using CsCheck;
using Lien.Protocol.Lending;

namespace Lien.Protocol.Tests.Lending;

public class PolicyTests
{
    private static readonly TimeZoneInfo Nairobi = TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi");
    private static readonly LenderTerms Lender = new("Jua Phones", null, "0800 723 000", "*483*7#", null, Nairobi, TimeSpan.FromHours(72), PolicyProfile.Standard);

    // One installment due 10 March 2026 (Nairobi, UTC+3): due at the end of that day, lockable at the end of 13 March.
    private static PlanTerms Plan(bool cancelled = false) =>
        new([new Installment(1, new DateOnly(2026, 3, 10), 100), new Installment(2, new DateOnly(2026, 4, 10), 100)], "KES", cancelled, "LN-TEST01", null);

    private static DateTimeOffset Utc(string s) => DateTimeOffset.Parse(s, System.Globalization.CultureInfo.InvariantCulture);

    // 10 March 2026 is a Tuesday. Nairobi is UTC+3, so 08:00 there is 05:00 UTC.
    private static readonly (string At, string Kind, LeaseMode Mode, string? Deadline)[] StandardWalk =
    [
        // when the lease is issued (UTC), its notice kind, its mode, the instant it names
        ("2026-03-01T00:00:00Z", "", LeaseMode.Unlocked, null),
        ("2026-03-07T05:00:00Z", NoticeKind.Reminder, LeaseMode.Unlocked, "2026-03-10T21:00:00Z"),  // 3 days before, 08:00 local
        ("2026-03-10T05:00:00Z", NoticeKind.DueToday, LeaseMode.Unlocked, "2026-03-10T21:00:00Z"),  // on the day
        ("2026-03-11T05:00:00Z", NoticeKind.Overdue, LeaseMode.Unlocked, "2026-03-13T21:00:00Z"),   // the day after: overdue, grace ends at the end of 13 March
        ("2026-03-13T05:00:00Z", NoticeKind.LockWarning, LeaseMode.Unlocked, "2026-03-14T05:00:00Z"), // 24 h before the first window instant after grace
        ("2026-03-14T05:00:00Z", NoticeKind.Locked, LeaseMode.Locked, null),                         // Saturday 08:00: inside the window
    ];

    [Fact]
    public void Evaluate_StandardProfile_NoticesOnTheirDaysThenLocksInsideTheWindow()
    {
        var log = PolicyWalk.Run(Lender, Plan(), Utc("2026-03-01T00:00:00Z"), Utc("2026-03-14T12:00:00Z"));
        var changes = log.Where((l, i) => i == 0 || l.Decision.Notice?.Kind != log[i - 1].Decision.Notice?.Kind || l.Decision.Mode != log[i - 1].Decision.Mode).ToList();
        Assert.Equal(StandardWalk.Select(e => (Utc(e.At), e.Kind, e.Mode, e.Deadline is null ? (DateTimeOffset?)null : Utc(e.Deadline))),
            changes.Select(c => (c.At, c.Decision.Notice?.Kind ?? "", c.Decision.Mode, c.Decision.Notice?.Deadline)));
        var warning = changes.Single(c => c.Decision.Notice?.Kind == NoticeKind.LockWarning);
        Assert.Equal(Utc("2026-03-14T05:00:00Z"), warning.Decision.UnlockedUntil); // the device, offline, locks at the warned instant
        Assert.Contains("2026-03-14 08:00", warning.Decision.Notice!.Text);
        Assert.Contains("unless KES 1 is paid", warning.Decision.Notice.Text);
    }

    public static TheoryData<string?, string, int, LeaseMode, string?> HoldCases => new()
    {
        // paid off at (UTC; null: by this very payment), now (UTC), hold (h) → mode, next review (UTC)
        { null, "2026-03-13T21:00:00Z", 72, LeaseMode.Unlocked, "2026-03-16T21:00:00Z" },
        { "2026-03-13T21:00:00Z", "2026-03-16T20:59:59Z", 72, LeaseMode.Unlocked, "2026-03-16T21:00:00Z" },
        { "2026-03-13T21:00:00Z", "2026-03-16T21:00:00Z", 72, LeaseMode.Released, null },
        { "2026-03-13T21:00:00Z", "2026-06-01T00:00:00Z", 72, LeaseMode.Released, null },
        { null, "2026-03-13T21:00:00Z", 0, LeaseMode.Released, null },
        { "2026-03-13T21:00:00Z", "2026-03-13T21:30:00Z", 1, LeaseMode.Unlocked, "2026-03-13T22:00:00Z" },
    };

    [Theory]
    [MemberData(nameof(HoldCases))]
    public void Evaluate_PaidOff_ReleasedOnlyAfterTheSettlementHold(string? paidOffAt, string now, int holdHours, LeaseMode mode, string? nextReview)
    {
        static DateTimeOffset At(string s) => DateTimeOffset.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
        var lender = Lender with { Profile = PolicyProfile.Standard with { SettlementHold = TimeSpan.FromHours(holdHours) } };
        var plan = Plan() with { PaidOffAt = paidOffAt is null ? null : At(paidOffAt) };
        var d = Policy.Evaluate(new PolicyInput(lender, plan, 200, false, null), At(now));
        Assert.Equal(mode, d.Mode);
        Assert.Null(d.UnlockedUntil); // no deadline during the hold, none once released
        Assert.Equal(nextReview is null ? null : At(nextReview), d.NextReviewAt);
        Assert.Equal(PlanStatus.PaidOff, d.Plan?.Status);
        Assert.Equal(0, d.Screen.AmountDueMinor);

        // The held lease is still right until the hold ends: no new lease at each review.
        var again = Policy.Evaluate(new PolicyInput(lender, plan, 200, false, new HeldLease(d.Mode, d.UnlockedUntil, d.Screen, d.Reason, d.Notice)), At(now));
        Assert.False(again.IssueNewLease);
    }

    [Fact]
    public void Evaluate_SettlementHold_TellsTheBorrowerTheLocalReleaseDate()
    {
        // 72 h after 21:00 UTC on 13 March is midnight in Nairobi: 17 March there, 16 March in UTC.
        var paidOff = new DateTimeOffset(2026, 3, 13, 21, 0, 0, TimeSpan.Zero);
        var d = Policy.Evaluate(new PolicyInput(Lender, Plan() with { PaidOffAt = paidOff }, 200, false, null), paidOff);
        Assert.Contains("released on 2026-03-17", d.Screen.Message);
        Assert.Equal(TimeSpan.FromHours(72), PolicyProfile.Standard.SettlementHold);
    }

    [Fact]
    public void Evaluate_GraceEndsOnSaturdayNight_LockWaitsForMondayMorning()
    {
        // Due Wednesday 11 March: grace ends at midnight into Sunday 15 March, outside the window (Monday to Saturday).
        var plan = new PlanTerms([new Installment(1, new DateOnly(2026, 3, 11), 100)], "KES", false, "LN-TEST01", null);
        var log = PolicyWalk.Run(Lender, plan, Utc("2026-03-01T00:00:00Z"), Utc("2026-03-20T00:00:00Z"));
        var locked = log.First(l => l.Decision.Mode == LeaseMode.Locked);
        Assert.Equal(Utc("2026-03-16T05:00:00Z"), locked.At);
        var warning = log.Last(l => l.Decision.Notice?.Kind == NoticeKind.LockWarning && l.At < locked.At);
        Assert.Equal(Utc("2026-03-15T05:00:00Z"), warning.Decision.Notice!.At);
    }

    [Fact]
    public void Evaluate_ReviewLateOutsideTheWindow_DoesNotLockUntilItOpens()
    {
        var warned = PolicyWalk.Run(Lender, Plan(), Utc("2026-03-01T00:00:00Z"), Utc("2026-03-13T06:00:00Z")).Last();
        var held = new HeldLease(warned.Decision.Mode, warned.Decision.UnlockedUntil, warned.Decision.Screen, warned.Decision.Reason, warned.Decision.Notice);
        // The scheduler was down and reviews at 20:00 local on Saturday, past the warned instant and outside the window.
        var late = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, false, held), Utc("2026-03-14T17:00:00Z"));
        Assert.Equal(LeaseMode.Unlocked, late.Mode);
        Assert.Equal(Utc("2026-03-16T05:00:00Z"), late.Notice!.Deadline); // Monday 08:00: Sunday is outside the window
        Assert.Equal(late.Notice.Deadline, late.UnlockedUntil);
        Assert.Equal(warned.Decision.Notice!.At, late.Notice.At);
        var monday = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, false, held with { Notice = late.Notice, UnlockedUntil = late.UnlockedUntil }), Utc("2026-03-16T05:00:00Z"));
        Assert.Equal(LeaseMode.Locked, monday.Mode);
    }

    [Fact]
    public void Evaluate_Locked_ShowsWhatToPayToUnlock_AndUnlocksAtOnceOnPayment()
    {
        var log = PolicyWalk.Run(Lender, Plan(), Utc("2026-03-01T00:00:00Z"), Utc("2026-03-20T00:00:00Z"), [(Utc("2026-03-15T09:30:00Z"), 30), (Utc("2026-03-15T21:30:00Z"), 70)]);
        var locked = log.Last(l => l.Decision.Mode == LeaseMode.Locked);
        Assert.Equal(70, locked.Decision.Screen.AmountDueMinor);
        Assert.Equal("LN-TEST01", locked.Decision.Screen.PayReference);
        Assert.Equal("*483*7#", locked.Decision.Screen.ShortCode);
        Assert.Contains("Installment 1 was due on 2026-03-10", locked.Decision.Reason);
        var unlocked = log.Single(l => l.At == Utc("2026-03-15T21:30:00Z"));  // Sunday night: unlocks never wait for the window
        Assert.Equal(LeaseMode.Unlocked, unlocked.Decision.Mode);
        Assert.Equal(NoticeKind.Unlocked, unlocked.Decision.Notice!.Kind);
        Assert.Equal(PlanStatus.Current, unlocked.Decision.Plan!.Status);
    }

    [Fact]
    public void Evaluate_LockedThroughTheNextDueDate_AsksForWhatUnlocksIt_ThenTheNextInstallmentGetsItsOwnNotices()
    {
        var april = Utc("2026-04-15T09:00:00Z");
        var log = PolicyWalk.Run(Lender, Plan(), Utc("2026-03-01T00:00:00Z"), Utc("2026-04-30T00:00:00Z"), [(april, 100)]);
        var locked = log.Where(l => l.At < april && l.Decision.Mode == LeaseMode.Locked).ToList();
        Assert.Equal(Utc("2026-03-14T05:00:00Z"), locked[0].At);
        Assert.All(locked, l => Assert.Equal(100, l.Decision.Screen.AmountDueMinor)); // the March installment, also after April's passed
        Assert.Contains("36 days overdue", locked[^1].Decision.Reason); // reviewed at the local midnight that began 15 April
        var paid = log.Single(l => l.At == april);
        Assert.Equal(LeaseMode.Unlocked, paid.Decision.Mode); // April's installment is past its grace too, but no one has warned of a lock for it
        Assert.Equal(NoticeKind.LockWarning, paid.Decision.Notice!.Kind); // so it is warned of now, 24 hours ahead
        Assert.Equal(2, paid.Decision.Notice.Installment);
        var next = log.First(l => l.At > april && l.Decision.Mode == LeaseMode.Locked);
        var warning = log.Last(l => l.At < next.At && l.Decision.Notice?.Kind == NoticeKind.LockWarning);
        Assert.Equal(2, warning.Decision.Notice!.Installment);
        Assert.True(next.At >= warning.Decision.Notice.At.AddHours(24));
    }

    [Fact]
    public void Evaluate_HeldLeaseStillGood_IsKeptUntilHalfTheAllowanceIsLeft()
    {
        var t0 = Utc("2026-03-02T06:00:00Z"); // Monday 09:00 local, inside the window, no notice due
        var first = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, false, null), t0);
        var held = new HeldLease(first.Mode, first.UnlockedUntil, first.Screen, first.Reason, first.Notice);
        Assert.Equal(t0.AddHours(72), first.UnlockedUntil);
        Assert.Equal(t0.AddHours(36), first.NextReviewAt);

        var later = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, false, held), t0.AddHours(35));
        Assert.False(later.IssueNewLease);
        Assert.Equal(first.UnlockedUntil, later.UnlockedUntil);

        var renewal = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, false, held), t0.AddHours(36));
        Assert.True(renewal.IssueNewLease);
        // 72 h after the renewal is Friday 21:00 local, outside the lock window: the allowance runs to Saturday 08:00.
        Assert.Equal(Utc("2026-03-07T05:00:00Z"), renewal.UnlockedUntil);
    }

    [Fact]
    public void Evaluate_OfflineAllowanceEndingOnSunday_EndsWhenTheWindowOpens()
    {
        var saturday = Utc("2026-03-07T14:00:00Z"); // 17:00 local; +72 h is Tuesday, fine; +24 h allowance is Sunday
        var d = Policy.Evaluate(new PolicyInput(Lender with { OfflineAllowance = TimeSpan.FromHours(24) }, Plan(), 0, false, null), saturday);
        Assert.Equal(Utc("2026-03-09T05:00:00Z"), d.UnlockedUntil);
        Assert.Contains("offline too long", d.Screen.Message);
    }

    [Fact]
    public void Evaluate_CancelledPlan_UnlockedWithoutDeadline()
    {
        var d = Policy.Evaluate(new PolicyInput(Lender, Plan(cancelled: true), 0, false, null), Utc("2026-04-12T00:00:00Z"));
        Assert.Equal(LeaseMode.Unlocked, d.Mode);
        Assert.Null(d.UnlockedUntil);
        Assert.Equal(PlanStatus.Cancelled, d.Plan?.Status);
    }

    [Fact]
    public void Evaluate_ReleasedDevice_StaysReleasedWhateverIsOwed()
    {
        var d = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, true, null), Utc("2026-04-12T00:00:00Z"));
        Assert.Equal(LeaseMode.Released, d.Mode);
        var again = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, true, new HeldLease(d.Mode, null, d.Screen, d.Reason, d.Notice)), Utc("2026-04-13T00:00:00Z"));
        Assert.False(again.IssueNewLease);
    }

    [Fact]
    public void StateOf_DaysPastDue_CountsLocalCalendarDays()
    {
        // 02:30 on 12 March in Nairobi is still 11 March in UTC.
        var s = Policy.StateOf(Plan(), 0, Nairobi, new DateTimeOffset(2026, 3, 11, 23, 30, 0, TimeSpan.Zero));
        Assert.Equal(PlanStatus.Overdue, s.Status);
        Assert.Equal(2, s.DaysPastDue);
        Assert.Equal(100, s.AmountOverdue);
        Assert.Equal(new DateOnly(2026, 4, 10), s.NextDueDate);
    }

    [Fact]
    public void StateOf_AnySchedule_SameAsCheckingEveryInstallment()
    {
        // StateOf stops doing zone arithmetic past the first installment not yet due; the answer is the one a check of every
        // installment gives, in order or not, in zones whose midnight is skipped (Santiago) or not.
        var gen = from rows in Gen.Select(Gen.Int[0, 400], Gen.Long[1, 500]).Array[1, 60]
                  from paid in Gen.Long[0, 20_000]
                  from minutes in Gen.Int[0, 500 * 24 * 60]
                  from zone in Gen.OneOfConst("Africa/Nairobi", "America/Santiago", "America/New_York")
                  select (rows, paid, minutes, zone);
        gen.Sample(t =>
        {
            var first = new DateOnly(2026, 1, 1);
            var schedule = t.rows.Select((r, i) => new Installment(i + 1, first.AddDays(r.Item1), r.Item2)).ToList();
            var zone = TimeZoneInfo.FindSystemTimeZoneById(t.zone);
            var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(t.minutes);
            var s = Policy.StateOf(new PlanTerms(schedule, "KES", false, "LN-1", null), t.paid, zone, now);
            var rows = Allocation.Of(schedule, t.paid).Installments.Where(r => r.Outstanding > 0).ToList();
            var overdue = rows.Where(r => now >= Policy.EndOfDay(r.Installment.DueDate, zone)).ToList();
            var next = rows.FirstOrDefault(r => now < Policy.EndOfDay(r.Installment.DueDate, zone));
            var today = Policy.LocalDate(now, zone);
            return s.AmountOverdue == overdue.Sum(r => r.Outstanding)
                && s.DaysPastDue == (overdue.Count == 0 ? 0 : today.DayNumber - overdue[0].Installment.DueDate.DayNumber)
                && s.NextDueDate == next?.Installment.DueDate && s.NextDueAmount == (next?.Outstanding ?? 0)
                && s.Status == (rows.Count == 0 ? PlanStatus.PaidOff : overdue.Count > 0 ? PlanStatus.Overdue : PlanStatus.Current);
        });
    }

    [Fact]
    public void EndOfDay_ZoneThatSkipsMidnight_EndsAtFirstValidInstant()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("America/Santiago");
        for (var d = new DateOnly(2026, 1, 1); d < new DateOnly(2027, 1, 1); d = d.AddDays(1))
        {
            var end = Policy.EndOfDay(d, zone);
            var local = TimeZoneInfo.ConvertTime(end, zone);
            Assert.True(DateOnly.FromDateTime(local.DateTime) == d.AddDays(1), $"{d}: ends {local}");
            Assert.True(local.TimeOfDay < TimeSpan.FromHours(2), $"{d}: ends {local}");
        }
    }
}
