using Lien.Protocol.Lending;

namespace Lien.Protocol.Tests.Lending;

public class ProfileTests
{
    private static readonly TimeZoneInfo Nairobi = TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi");
    private static readonly TimeZoneInfo Kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");

    private static DateTimeOffset Utc(string s) => DateTimeOffset.Parse(s, System.Globalization.CultureInfo.InvariantCulture);

    public static TheoryData<string, string?, string?> Overrides => new()
    {
        // profile, overrides (JSON), the field refused (null: accepted)
        { "standard", null, null },
        { "rbi-2026", null, null },
        { "custom", """{"graceDays":5,"reminderDaysBeforeDue":[7,1,0],"lockWarningHours":48}""", null },
        { "custom", """{"formalNotices":[{"daysPastDue":10,"daysToPay":14},{"daysPastDue":30,"daysToPay":7}]}""", null },
        { "custom", """{"graceDays":0}""", "policy.graceDays" },
        { "custom", """{"graceDays":366}""", "policy.graceDays" },
        { "custom", """{"lockWarningHours":23}""", "policy.lockWarningHours" },
        { "custom", """{"disputeHoldDays":0}""", "policy.disputeHoldDays" },
        { "custom", """{"reminderDaysBeforeDue":[3,3]}""", "policy.reminderDaysBeforeDue" },
        { "custom", """{"reminderDaysBeforeDue":[31]}""", "policy.reminderDaysBeforeDue" },
        { "custom", """{"formalNotices":[{"daysPastDue":30,"daysToPay":7},{"daysPastDue":10,"daysToPay":7}]}""", "policy.formalNotices" },
        { "custom", """{"formalNotices":[{"daysPastDue":1,"daysToPay":0}]}""", "policy.formalNotices" },
        { "custom", """{"formalNotices":[{"daysPastDue":1,"daysToPay":1},{"daysPastDue":2,"daysToPay":1},{"daysPastDue":3,"daysToPay":1}]}""", "policy.formalNotices" },
        { "custom", """{"lockWindow":{"startHour":9,"endHour":12}}""", "policy.lockWindow" },
        { "custom", """{"lockWindow":{"days":["Monday","Tuesday"]}}""", "policy.lockWindow" },
        { "custom", """{"lockWindow":{"startHour":18,"endHour":8}}""", "policy.lockWindow" },
        { "custom", """{"lockWindow":{"startHour":0,"endHour":24,"days":["Sunday","Monday","Tuesday"]}}""", null },
        { "custom", """{"settlementHoldHours":0}""", null },
        { "custom", """{"settlementHoldHours":721}""", "policy.settlementHoldHours" },
        { "custom", """{"promiseMaxDays":91}""", "policy.promiseMaxDays" },
        { "custom", """{"goodwillMaxHours":0}""", "policy.goodwillMaxHours" },
        { "rbi-2026", """{"graceDays":100,"lockWindow":{"startHour":10}}""", null },
        { "rbi-2026", """{"graceDays":60}""", "policy.graceDays" },
        { "rbi-2026", """{"formalNotices":[{"daysPastDue":60,"daysToPay":21}]}""", "policy.formalNotices" },
        { "rbi-2026", """{"disputeHoldDays":10}""", "policy.disputeHoldDays" },
        { "nonsense", null, "policyProfile" },
    };

    [Theory]
    [MemberData(nameof(Overrides))]
    public void Problems_Overrides_StayWithinTheBounds(string profile, string? overrides, string? refused)
    {
        var o = overrides is null ? null : System.Text.Json.JsonSerializer.Deserialize<ProfileOverrides>(overrides, Json);
        var problems = PolicyProfile.Problems(profile, o);
        if (refused is null) Assert.Empty(problems);
        else Assert.Contains(problems, p => p.Field == refused);
    }

    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    [Fact]
    public void Resolve_Overrides_ChangeOnlyWhatTheyName()
    {
        var p = PolicyProfile.Resolve("rbi-2026", new ProfileOverrides(LockWindow: new LockWindowOverrides(StartHour: 10)))!;
        Assert.Equal(90, p.GraceDays);
        Assert.Equal(10, p.LockWindow.StartHour);
        Assert.Equal(18, p.LockWindow.EndHour);
        Assert.Equal(2, p.FormalNotices.Count);
        Assert.Equal(TimeSpan.FromHours(72), p.SettlementHold);
        Assert.Equal("custom", PolicyProfile.Resolve("custom", null)!.Name);
    }

    public static TheoryData<string, string, bool, string> Windows => new()
    {
        // zone, instant (UTC), inside the 08:00-18:00 Monday-Saturday window, the first instant at or after it inside
        { "Africa/Nairobi", "2026-03-14T05:00:00Z", true, "2026-03-14T05:00:00Z" },   // Saturday 08:00
        { "Africa/Nairobi", "2026-03-14T04:59:59Z", false, "2026-03-14T05:00:00Z" },  // Saturday 07:59:59
        { "Africa/Nairobi", "2026-03-14T15:00:00Z", false, "2026-03-16T05:00:00Z" },  // Saturday 18:00: next is Monday
        { "Africa/Nairobi", "2026-03-15T09:00:00Z", false, "2026-03-16T05:00:00Z" },  // Sunday noon
        { "Africa/Nairobi", "2026-03-16T14:59:59Z", true, "2026-03-16T14:59:59Z" },   // Monday 17:59:59
        { "Europe/London", "2026-03-28T20:00:00Z", false, "2026-03-30T07:00:00Z" },   // Saturday night; Monday 08:00 is BST (UTC+1) after the change on Sunday
        { "America/Santiago", "2026-09-05T23:00:00Z", false, "2026-09-07T11:00:00Z" }, // Saturday 19:00 (UTC-4); Monday 08:00 is UTC-3 (the clocks went forward on Sunday)
        { "Asia/Kolkata", "2026-03-16T02:29:00Z", false, "2026-03-16T02:30:00Z" },    // 07:59 in India (UTC+5:30)
    };

    [Theory]
    [MemberData(nameof(Windows))]
    public void LockWindow_SupportHours_InLocalTime(string zone, string at, bool inside, string next)
    {
        var tz = TimeZoneInfo.FindSystemTimeZoneById(zone);
        Assert.Equal(inside, LockWindow.SupportHours.Contains(Utc(at), tz));
        Assert.Equal(Utc(next), LockWindow.SupportHours.AtOrAfter(Utc(at), tz));
    }

    [Fact]
    public void Evaluate_Rbi2026_BothNoticesThenNoLockBefore90DaysPastDue()
    {
        var lender = new LenderTerms("Jua Phones", null, "1800 000", null, null, Kolkata, TimeSpan.FromDays(7), PolicyProfile.Rbi2026);
        var due = new DateOnly(2026, 1, 10);
        var plan = new PlanTerms([new Installment(1, due, 5000)], "INR", false, "LN-RBI01", null);
        var log = PolicyWalk.Run(lender, plan, Utc("2026-01-01T00:00:00Z"), Utc("2026-05-01T00:00:00Z"));
        var notices = PolicyWalk.Notices(log);
        var first = notices.Single(n => n.Notice.Kind == NoticeKind.FirstNotice);
        var second = notices.Single(n => n.Notice.Kind == NoticeKind.SecondNotice);
        var locked = log.First(l => l.Decision.Mode == LeaseMode.Locked);
        // The first notice at 60 days past due (08:00 IST on 11 March), giving 21 whole days.
        Assert.Equal(Utc("2026-03-11T02:30:00Z"), first.At);
        Assert.True(first.Notice.Deadline >= first.At.AddDays(21));
        // The second only after the first's deadline, giving 7 more.
        Assert.True(second.At >= first.Notice.Deadline);
        Assert.True(second.Notice.Deadline >= second.At.AddDays(7));
        // No restriction before 90 days past due, nor before the second's deadline, nor outside the window.
        Assert.True(locked.At >= Policy.EndOfDay(due.AddDays(90), Kolkata));
        Assert.True(locked.At >= second.Notice.Deadline);
        Assert.True(LockWindow.SupportHours.Contains(locked.At, Kolkata));
        var warning = notices.Single(n => n.Notice.Kind == NoticeKind.LockWarning);
        Assert.True(locked.At >= warning.At.AddHours(24));
        Assert.Equal(warning.Notice.Deadline, locked.At);
        Assert.Equal([NoticeKind.Reminder, NoticeKind.DueToday, NoticeKind.Overdue, NoticeKind.FirstNotice, NoticeKind.SecondNotice, NoticeKind.LockWarning, NoticeKind.Locked],
            notices.Select(n => n.Notice.Kind));
    }

    [Fact]
    public void Evaluate_OpenDispute_HoldsTheLockBackForAtMostTheBound()
    {
        var lender = new LenderTerms("Jua Phones", null, null, null, null, Nairobi, TimeSpan.FromDays(3), PolicyProfile.Standard);
        var plan = new PlanTerms([new Installment(1, new DateOnly(2026, 3, 10), 100)], "KES", false, "LN-D1", null);
        var opened = Utc("2026-03-13T10:00:00Z"); // after the lock warning, before the lock
        var log = PolicyWalk.Run(lender, plan, Utc("2026-03-01T00:00:00Z"), Utc("2026-04-01T00:00:00Z"),
            holds: [(opened, new PlanHolds(DisputeOpenedAt: opened))]);
        var locked = log.First(l => l.Decision.Mode == LeaseMode.Locked);
        var bound = opened + PolicyProfile.Standard.DisputeHold;
        Assert.True(locked.At >= bound);
        Assert.Equal(LockWindow.SupportHours.AtOrAfter(bound, Nairobi), locked.At); // and not a moment longer
        var moved = log.First(l => l.At == opened);
        Assert.Equal(NoticeKind.LockWarning, moved.Decision.Notice!.Kind);
        Assert.Equal(locked.At, moved.Decision.Notice.Deadline); // the borrower is told the new instant at once
    }

    [Fact]
    public void Evaluate_PromiseToPay_PostponesTheLock()
    {
        var lender = new LenderTerms("Jua Phones", null, null, null, null, Nairobi, TimeSpan.FromDays(3), PolicyProfile.Standard);
        var plan = new PlanTerms([new Installment(1, new DateOnly(2026, 3, 10), 100)], "KES", false, "LN-P1", null);
        var granted = Utc("2026-03-12T07:00:00Z");
        var log = PolicyWalk.Run(lender, plan, Utc("2026-03-01T00:00:00Z"), Utc("2026-04-01T00:00:00Z"),
            holds: [(granted, new PlanHolds(PromisedUntil: new DateOnly(2026, 3, 20)))]);
        var locked = log.First(l => l.Decision.Mode == LeaseMode.Locked);
        Assert.Equal(Utc("2026-03-21T05:00:00Z"), locked.At); // Saturday 21 March 08:00, the first window instant after the promised day
    }

    [Fact]
    public void Evaluate_GoodwillUnlockOfALockedPhone_UnlocksAtOnceAndWarnsBeforeItLocksAgain()
    {
        var lender = new LenderTerms("Jua Phones", null, null, null, null, Nairobi, TimeSpan.FromDays(3), PolicyProfile.Standard);
        var plan = new PlanTerms([new Installment(1, new DateOnly(2026, 3, 10), 100)], "KES", false, "LN-G1", null);
        var granted = Utc("2026-03-16T06:00:00Z"); // locked since Saturday 14 March
        var log = PolicyWalk.Run(lender, plan, Utc("2026-03-01T00:00:00Z"), Utc("2026-04-01T00:00:00Z"),
            holds: [(granted, new PlanHolds(GoodwillUntil: granted.AddHours(6)))]);
        var unlocked = log.Single(l => l.At == granted);
        Assert.Equal(LeaseMode.Unlocked, unlocked.Decision.Mode);
        Assert.Equal(NoticeKind.LockWarning, unlocked.Decision.Notice!.Kind);
        var relocked = log.First(l => l.At > granted && l.Decision.Mode == LeaseMode.Locked);
        Assert.Equal(granted.AddHours(24), relocked.At); // 6 h of goodwill, but never less than the profile's warning
        Assert.Equal(unlocked.Decision.Notice.Deadline, relocked.At);
    }
}
