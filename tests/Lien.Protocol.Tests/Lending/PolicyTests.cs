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

    private static readonly DateTimeOffset LockAt = new(2026, 3, 13, 21, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, long, string, LeaseMode, string?, PlanStatus?> Cases => new()
    {
        // now (UTC), paid, expected mode, expected unlockedUntil (UTC; "" none), expected status
        { "2026-03-01T00:00:00Z", 0, "far before due: offline allowance bounds the lease", LeaseMode.Unlocked, "2026-03-04T00:00:00Z", PlanStatus.Current },
        { "2026-03-10T20:59:59Z", 0, "last second of the due date", LeaseMode.Unlocked, "2026-03-13T20:59:59Z", PlanStatus.Current },
        { "2026-03-10T21:00:00Z", 0, "due date over: overdue, within grace", LeaseMode.Unlocked, "2026-03-13T21:00:00Z", PlanStatus.Overdue },
        { "2026-03-13T20:59:59Z", 0, "last second of grace", LeaseMode.Unlocked, "2026-03-13T21:00:00Z", PlanStatus.Overdue },
        { "2026-03-13T21:00:00Z", 0, "grace over: locked", LeaseMode.Locked, null, PlanStatus.Overdue },
        { "2026-03-13T21:00:00Z", 100, "first installment paid: current, next due in April", LeaseMode.Unlocked, "2026-03-16T21:00:00Z", PlanStatus.Current },
        { "2026-03-13T21:00:00Z", 99, "one short of the first installment: locked", LeaseMode.Locked, null, PlanStatus.Overdue },
        { "2026-03-13T21:00:00Z", 200, "paid off: the settlement hold, unlocked with no deadline", LeaseMode.Unlocked, null, PlanStatus.PaidOff },
        { "2026-05-30T00:00:00Z", 250, "overpaid: the settlement hold, credit kept", LeaseMode.Unlocked, null, PlanStatus.PaidOff },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Evaluate_Deadlines_FollowTheStandardProfile(string now, long paid, string why, LeaseMode mode, string? until, PlanStatus? status)
    {
        var d = Policy.Evaluate(new PolicyInput(Lender, Plan(), paid, false, null), DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(mode == d.Mode, why);
        Assert.Equal(until is null ? null : DateTimeOffset.Parse(until, System.Globalization.CultureInfo.InvariantCulture), d.UnlockedUntil);
        Assert.Equal(status, d.Plan?.Status);
        Assert.True(d.IssueNewLease);
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
        var again = Policy.Evaluate(new PolicyInput(lender, plan, 200, false, new HeldLease(d.Mode, d.UnlockedUntil, d.Screen, d.Reason)), At(now));
        Assert.False(again.IssueNewLease);
    }

    [Fact]
    public void Evaluate_SettlementHold_TellsTheBorrowerTheLocalReleaseDate()
    {
        // 72 h after 21:00 UTC on 13 March is midnight in Nairobi: 17 March there, 16 March in UTC.
        var d = Policy.Evaluate(new PolicyInput(Lender, Plan() with { PaidOffAt = LockAt }, 200, false, null), LockAt);
        Assert.Contains("released on 2026-03-17", d.Screen.Message);
        Assert.Equal(TimeSpan.FromHours(72), PolicyProfile.Standard.SettlementHold);
    }

    [Fact]
    public void Evaluate_Locked_ShowsWhatToPayToUnlock()
    {
        var d = Policy.Evaluate(new PolicyInput(Lender, Plan(), 30, false, null), LockAt);
        Assert.Equal(70, d.Screen.AmountDueMinor);
        Assert.Equal("KES", d.Screen.Currency);
        Assert.Equal("LN-TEST01", d.Screen.PayReference);
        Assert.Equal("*483*7#", d.Screen.ShortCode);
        Assert.Contains("Installment 1 was due on 2026-03-10 and is 4 days overdue", d.Reason); // the due date, then 11, 12 and 13 March of grace
        Assert.Equal(LockAt.AddDays(1), d.NextReviewAt); // the next local midnight: the end of 14 March in Nairobi
    }

    [Fact]
    public void Evaluate_StillLockedWhenTheNextInstallmentLocks_AsksForBoth()
    {
        var locked = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, false, null), LockAt);
        var held = new HeldLease(locked.Mode, locked.UnlockedUntil, locked.Screen, locked.Reason);

        // A day later only the reason's day count moves; once April's installment is past its grace, its amount is due too.
        var nextDay = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, false, held), locked.NextReviewAt!.Value);
        Assert.Equal(100, nextDay.Screen.AmountDueMinor);
        Assert.Contains("5 days overdue", nextDay.Reason);
        Assert.True(nextDay.IssueNewLease);
        var aprilLock = new DateTimeOffset(2026, 4, 13, 21, 0, 0, TimeSpan.Zero);
        var april = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, false, held), aprilLock);
        Assert.Equal(LeaseMode.Locked, april.Mode);
        Assert.Equal(200, april.Screen.AmountDueMinor);
    }

    [Fact]
    public void Evaluate_UnlockedUntilLockInstant_ReviewsAtLockInstant()
    {
        var d = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, false, null), LockAt.AddHours(-10));
        Assert.Equal(LockAt, d.UnlockedUntil);
        Assert.Equal(LockAt, d.NextReviewAt);
        Assert.Equal(100, d.Screen.AmountDueMinor); // what the device shows if it locks offline
    }

    [Fact]
    public void Evaluate_HeldLeaseStillGood_IsKeptUntilHalfTheAllowanceIsLeft()
    {
        var t0 = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var first = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, false, null), t0);
        var held = new HeldLease(first.Mode, first.UnlockedUntil, first.Screen, first.Reason);
        Assert.Equal(t0.AddHours(36), first.NextReviewAt);

        var later = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, false, held), t0.AddHours(35));
        Assert.False(later.IssueNewLease);
        Assert.Equal(first.UnlockedUntil, later.UnlockedUntil);

        var renewal = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, false, held), t0.AddHours(36));
        Assert.True(renewal.IssueNewLease);
        Assert.Equal(t0.AddHours(36 + 72), renewal.UnlockedUntil);
    }

    [Fact]
    public void Evaluate_CancelledPlan_UnlockedWithoutDeadline()
    {
        var d = Policy.Evaluate(new PolicyInput(Lender, Plan(cancelled: true), 0, false, null), LockAt.AddDays(30));
        Assert.Equal(LeaseMode.Unlocked, d.Mode);
        Assert.Null(d.UnlockedUntil);
        Assert.Equal(PlanStatus.Cancelled, d.Plan?.Status);
    }

    [Fact]
    public void Evaluate_ReleasedDevice_StaysReleasedWhateverIsOwed()
    {
        var d = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, true, null), LockAt.AddDays(30));
        Assert.Equal(LeaseMode.Released, d.Mode);
        var again = Policy.Evaluate(new PolicyInput(Lender, Plan(), 0, true, new HeldLease(d.Mode, null, d.Screen, d.Reason)), LockAt.AddDays(31));
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

    // The consumer-safety invariants, over random plans, payments, instants and held leases.
    [Fact]
    public void Evaluate_AnyPlan_CurrentIsNeverLockedAndLocksOnlyPastGrace()
    {
        var gen = from count in Gen.Int[1, 12]
                  from weekly in Gen.Bool
                  from amount in Gen.Long[1, 50_000]
                  from paidShare in Gen.Double[0, 1.2]
                  from offsetHours in Gen.Int[-24 * 40, 24 * 400]
                  from heldHoursAgo in Gen.Int[0, 24 * 10]
                  from allowanceHours in Gen.Int[1, 24 * 30]
                  select (count, weekly, amount, paidShare, offsetHours, heldHoursAgo, allowanceHours);
        gen.Sample(t =>
        {
            var lender = Lender with { OfflineAllowance = TimeSpan.FromHours(t.allowanceHours) };
            var first = new DateOnly(2026, 2, 1);
            var schedule = Schedule.Generate(t.amount * t.count, t.count, t.weekly ? Frequency.Weekly : Frequency.Monthly, first);
            var plan = new PlanTerms(schedule, "KES", false, "LN-P", null);
            var paid = (long)(t.amount * t.count * t.paidShare);
            var now = new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero).AddHours(t.offsetHours);
            var earlier = Policy.Evaluate(new PolicyInput(lender, plan, paid, false, null), now.AddHours(-t.heldHoursAgo));
            var held = new HeldLease(earlier.Mode, earlier.UnlockedUntil, earlier.Screen, earlier.Reason);
            var d = Policy.Evaluate(new PolicyInput(lender, plan, paid, false, held), now);
            var state = Policy.StateOf(plan, paid, Nairobi, now);
            var firstUnpaid = state.Allocation.Installments.FirstOrDefault(i => i.Outstanding > 0);
            return (state.Status != PlanStatus.Current || (d.Mode == LeaseMode.Unlocked && d.UnlockedUntil > now))
                   && (d.Mode != LeaseMode.Locked || (firstUnpaid is not null && now >= Policy.LockInstant(firstUnpaid.Installment, lender)))
                   && (d.Mode != LeaseMode.Released || state.Status == PlanStatus.PaidOff)
                   && (d.NextReviewAt is null || d.NextReviewAt > now)
                   && (d.UnlockedUntil is null || d.UnlockedUntil <= now + lender.OfflineAllowance);
        });
    }
}
