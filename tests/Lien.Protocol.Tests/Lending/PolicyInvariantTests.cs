using CsCheck;
using Lien.Protocol.Lending;

namespace Lien.Protocol.Tests.Lending;

/// <summary>
/// The consumer-safety invariants, for every profile (the named ones and custom ones generated within the bounds), over
/// generated schedules, payments, holds, clocks and time zones: each generated plan is walked for eight months the way
/// the server walks it (evaluate, hold the lease, wake at the next review or event), and every lease is checked.
/// </summary>
public class PolicyInvariantTests
{
    private static readonly string[] Zones =
        ["Africa/Nairobi", "Asia/Kolkata", "America/Santiago", "Europe/London", "Pacific/Chatham", "America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC"];

    private static readonly Gen<PolicyProfile> CustomProfile =
        from grace in Gen.Int[PolicyBounds.Floor.GraceDays, 30]
        from reminders in Gen.Int[0, 10].Array[0, 3]
        from noticeCount in Gen.Int[0, 2]
        from firstDpd in Gen.Int[1, 30]
        from gap in Gen.Int[1, 20]
        from pay1 in Gen.Int[1, 15]
        from pay2 in Gen.Int[1, 15]
        from warningHours in Gen.Int[24, 72]
        from disputeDays in Gen.Int[1, 10]
        from start in Gen.Int[0, 16]
        from length in Gen.Int[PolicyBounds.MinWindowHours, 8]
        from dayMask in Gen.Int[0, 127]
        select MakeCustom(grace, reminders, noticeCount, firstDpd, gap, pay1, pay2, warningHours, disputeDays, start, length, dayMask);

    private static PolicyProfile MakeCustom(int grace, int[] reminders, int noticeCount, int firstDpd, int gap, int pay1, int pay2, int warningHours,
        int disputeDays, int start, int length, int dayMask)
    {
        var days = Enum.GetValues<DayOfWeek>().Where(d => (dayMask & (1 << (int)d)) != 0).ToList();
        foreach (var d in Enum.GetValues<DayOfWeek>()) if (days.Count < PolicyBounds.MinWindowDays && !days.Contains(d)) days.Add(d);
        FormalNotice[] notices = noticeCount switch
        {
            0 => [],
            1 => [new(firstDpd, pay1)],
            _ => [new(firstDpd, pay1), new(firstDpd + gap, pay2)],
        };
        var overrides = new ProfileOverrides(grace, reminders.Distinct().ToList(), notices, warningHours, disputeDays,
            LockWindow: new LockWindowOverrides(start, start + length, days));
        Assert.Empty(PolicyProfile.Problems("custom", overrides)); // generated within the bounds
        return PolicyProfile.Resolve("custom", overrides)!;
    }

    private static readonly Gen<PolicyProfile> AnyProfile = Gen.Frequency((1, Gen.Const(PolicyProfile.Standard)), (1, Gen.Const(PolicyProfile.Rbi2026)), (3, CustomProfile));

    private sealed record Case(LenderTerms Lender, PlanTerms Plan, DateTimeOffset From, List<(DateTimeOffset, long)> Payments, List<(DateTimeOffset, PlanHolds)> Holds, bool Unpaid);

    private static readonly Gen<Case> Cases =
        from profile in AnyProfile
        from zone in Gen.OneOfConst(Zones)
        from allowanceHours in Gen.Int[1, 24 * 10]
        from count in Gen.Int[1, 4]
        from weekly in Gen.Bool
        from amount in Gen.Long[1, 50_000]
        from startMinutes in Gen.Int[0, 60 * 24 * 365]
        from firstDueDays in Gen.Int[-5, 40]
        from payments in Gen.Select(Gen.Int[0, 24 * 200], Gen.Double[0, 1.5]).Array[0, 4]
        from disputeAt in Gen.Int[-1, 24 * 150]
        from promiseAt in Gen.Int[-1, 24 * 150]
        from promiseDays in Gen.Int[0, 30]
        from goodwillAt in Gen.Int[-1, 24 * 150]
        from goodwillHours in Gen.Int[1, 168]
        select Make(profile, zone, allowanceHours, count, weekly, amount, startMinutes, firstDueDays, payments, disputeAt, promiseAt, promiseDays, goodwillAt, goodwillHours);

    private static Case Make(PolicyProfile profile, string zone, int allowanceHours, int count, bool weekly, long amount, int startMinutes, int firstDueDays,
        (int Hours, double Share)[] payments, int disputeAt, int promiseAt, int promiseDays, int goodwillAt, int goodwillHours)
    {
        var tz = TimeZoneInfo.FindSystemTimeZoneById(zone);
        var lender = new LenderTerms("Lender", null, null, null, null, tz, TimeSpan.FromHours(allowanceHours), profile);
        var from = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(startMinutes);
        var firstDue = Policy.LocalDate(from, tz).AddDays(firstDueDays);
        var plan = new PlanTerms(Schedule.Generate(amount * count, count, weekly ? Frequency.Weekly : Frequency.Monthly, firstDue), "KES", false, "LN-P", null);
        var paid = payments.Select(p => (from.AddHours(p.Hours).AddMinutes(p.Hours % 59), (long)Math.Ceiling(amount * p.Share))).Where(p => p.Item2 > 0).ToList();
        var holds = new List<(DateTimeOffset At, PlanHolds Holds)>();
        var current = PlanHolds.None;
        foreach (var (at, change) in new[] { (disputeAt, 0), (promiseAt, 1), (goodwillAt, 2) }.Where(x => x.Item1 >= 0).OrderBy(x => x.Item1))
        {
            var t = from.AddHours(at).AddMinutes(at % 47);
            current = change switch
            {
                0 => current with { DisputeOpenedAt = t },
                1 => current with { PromisedUntil = Policy.LocalDate(t, tz).AddDays(Math.Min(promiseDays, profile.PromiseMaxDays)) },
                _ => current with { GoodwillUntil = t.AddHours(Math.Min(goodwillHours, profile.GoodwillMax.TotalHours)) },
            };
            holds.Add((t, current));
        }
        return new Case(lender, plan, from, paid, holds, paid.Count == 0);
    }

    private static string Dump(List<WalkedLease> log, Case c) =>
        $"\nnotices {string.Join(",", c.Lender.Profile.FormalNotices)} schedule {string.Join(",", c.Plan.Schedule)} payments {string.Join(",", c.Payments)} holds {string.Join(",", c.Holds)}\n" +
        string.Join("\n", log.Select(l => $"{l.At:O} {l.Decision.Mode} paid {l.PaidTotal} {l.Decision.Notice?.Kind} #{l.Decision.Notice?.Installment} at {l.Decision.Notice?.At:O} by {l.Decision.Notice?.Deadline:O}"));

    [Fact]
    public void Evaluate_EveryProfile_KeepsTheInvariants()
    {
        Cases.Sample(c =>
        {
            var to = c.From.AddDays(240);
            var log = PolicyWalk.Run(c.Lender, c.Plan, c.From, to, c.Payments, c.Holds);
            var profile = c.Lender.Profile;
            var zone = c.Lender.TimeZone;
            var released = false;
            for (var i = 0; i < log.Count; i++)
            {
                var (at, d, paid, holds) = (log[i].At, log[i].Decision, log[i].PaidTotal, log[i].Holds);
                var state = Policy.StateOf(c.Plan, paid, zone, at);
                // A current plan is never locked.
                if (state.Status == PlanStatus.Current && d.Mode == LeaseMode.Locked) throw new Xunit.Sdk.XunitException($"Locked while current at {at:O}.");
                // Released is final.
                if (released && d.Mode != LeaseMode.Released) throw new Xunit.Sdk.XunitException($"Left Released at {at:O}.");
                released |= d.Mode == LeaseMode.Released;
                // A device that runs out of lease locks itself inside the window too.
                if (d.UnlockedUntil is { } u && !profile.LockWindow.Contains(u, zone)) throw new Xunit.Sdk.XunitException($"Unlocked until {u:O}, outside the window.");
                if (d.NextReviewAt is { } r && r <= at) throw new Xunit.Sdk.XunitException($"Next review {r:O} not after {at:O}.");
                var newLock = d.Mode == LeaseMode.Locked && (i == 0 || log[i - 1].Decision.Mode != LeaseMode.Locked);
                if (!newLock) continue;
                // No lock outside the window.
                if (!profile.LockWindow.Contains(at, zone)) throw new Xunit.Sdk.XunitException($"Locked at {at:O}, outside the window.");
                var oldest = state.Allocation.Installments.First(x => x.Outstanding > 0).Installment;
                if (at < Policy.LockInstant(oldest, c.Lender)) throw new Xunit.Sdk.XunitException($"Locked at {at:O} inside grace.");
                // No lock before every required notice was sent and its waiting time passed.
                var before = PolicyWalk.Notices(log[..i]).Where(n => n.Notice.Installment == oldest.Number).ToList();
                if (!before.Any(n => n.Notice.Kind == NoticeKind.LockWarning && n.At + profile.LockWarning <= at))
                    throw new Xunit.Sdk.XunitException($"Locked at {at:O} without a lock warning {profile.LockWarning} before.");
                for (var k = 0; k < profile.FormalNotices.Count; k++)
                {
                    var kind = k == 0 ? NoticeKind.FirstNotice : NoticeKind.SecondNotice;
                    if (!before.Any(n => n.Notice.Kind == kind && n.Notice.Deadline <= at && n.Notice.Deadline >= n.At.AddDays(profile.FormalNotices[k].DaysToPay)))
                        throw new Xunit.Sdk.XunitException($"Locked at {at:O} before the {kind}'s deadline." + Dump(log, c));
                }
                // An open dispute blocks a new lock (up to its bound); a promise and a goodwill unlock postpone it.
                if (holds.DisputeOpenedAt is { } o && at < o + profile.DisputeHold) throw new Xunit.Sdk.XunitException($"Locked at {at:O} with a dispute open.");
                if (holds.PromisedUntil is { } p && at < Policy.EndOfDay(p, zone)) throw new Xunit.Sdk.XunitException($"Locked at {at:O} inside a promise.");
                if (holds.GoodwillUntil is { } g && at < g) throw new Xunit.Sdk.XunitException($"Locked at {at:O} inside a goodwill unlock.");
            }
            // ... and for at most its bound: a plan never paid is locked in the end, whatever was open.
            if (c.Unpaid && log[^1].Decision.Mode != LeaseMode.Locked)
                throw new Xunit.Sdk.XunitException("Never locked, though nothing was ever paid.");
        }, iter: int.TryParse(Environment.GetEnvironmentVariable("LIEN_POLICY_ITER"), out var n) ? n : 300);
    }
}
