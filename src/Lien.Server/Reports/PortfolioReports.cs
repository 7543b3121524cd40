using Lien.Protocol;
using Lien.Server.Disputes;
using Lien.Server.Payments;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Lien.Server.UnmatchedPayments;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Reports;

internal sealed record DevicesByState(int Unlocked, int Notice, int Locked, int Released);
internal sealed record AgingBucket(string Label, int FromDays, int? ToDays, int Plans, long Overdue);
internal sealed record ParPoint(DateOnly Date, long Outstanding, long AtRisk30, long AtRisk90, decimal Par30, decimal Par90);
internal sealed record CollectionPoint(DateOnly WeekFrom, DateOnly WeekTo, long Due, long Collected, decimal Rate);
internal sealed record PaymentDay(DateOnly Date, int Payments, long Amount);
internal sealed record UnlockLatency(DateTimeOffset From, DateTimeOffset To, int Unlocks, long? P50Ms, long? P99Ms);

/// <summary>
/// What a lender's portfolio looks like now, in its currency and time zone. Amounts are minor units; rates are fractions
/// (0.1234 is 12.34 %) rounded to four places; <see cref="UnmatchedPayments"/> is the money waiting in the queue for staff.
/// </summary>
internal sealed record Dashboard(DateTimeOffset At, string Currency, DevicesByState Devices, IReadOnlyList<AgingBucket> Aging,
    IReadOnlyList<ParPoint> Par, IReadOnlyList<CollectionPoint> Collections, IReadOnlyList<PaymentDay> Payments, UnlockLatency UnlockLatency,
    int OpenDisputes, int UnmatchedPayments);

/// <summary>
/// The portfolio reports, for the console's dashboard and <c>/v1/reports</c> alike (one computation, so they cannot
/// disagree). Every plan's standing is the policy's own (<see cref="Policy.StateOf"/>) — at each past date from the
/// payments received by then — so no arrears rule is written twice. Read-only.
/// </summary>
internal sealed class PortfolioReports(LienDb db, TimeProvider time)
{
    public const int Weeks = 12;
    public const int Days = 30;

    public static readonly IReadOnlyList<(string Label, int From, int? To)> Buckets = [("1-7", 1, 7), ("8-30", 8, 30), ("31-90", 31, 90), ("90+", 91, null)];

    public async Task<Dashboard> DashboardAsync(Guid lenderId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == lenderId, ct);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(lender.TimeZone);
        var today = Policy.LocalDate(now, zone);
        var book = await BookAsync(lenderId, lender.Currency, today.AddDays(-7 * Weeks), zone, ct);
        return new Dashboard(now, lender.Currency, await DevicesAsync(lenderId, ct), Aging(book, now, zone), Par(book, today, now, zone),
            Collections(book, today, zone), PaymentsPerDay(book, today, zone), await LatencyAsync(lenderId, now, ct),
            await db.Set<Dispute>().CountAsync(d => d.LenderId == lenderId && d.State == DisputeState.Open, ct),
            await db.Set<UnmatchedPayment>().CountAsync(u => u.LenderId == lenderId && u.State == UnmatchedState.Open, ct));
    }

    public async Task<DevicesByState> DevicesAsync(Guid lenderId, CancellationToken ct)
    {
        var counts = await (from d in db.Devices.AsNoTracking()
                            where d.LenderId == lenderId
                            join x in db.Leases on new { d.Id, Seq = d.LeaseSeq } equals new { Id = x.DeviceId, x.Seq } into held
                            from x in held.DefaultIfEmpty()
                            group d by new { d.LeaseMode, Released = d.ReleasedAt != null, Notice = x != null && x.NoticeJson != null } into g
                            select new { g.Key.LeaseMode, g.Key.Released, g.Key.Notice, Count = g.Count() }).ToListAsync(ct);
        int Sum(Func<LeaseMode, bool, bool, bool> which) => counts.Where(c => which(c.LeaseMode, c.Released, c.Notice)).Sum(c => c.Count);
        return new DevicesByState(
            Sum((m, r, n) => !r && m == LeaseMode.Unlocked && !n),
            Sum((m, r, n) => !r && m == LeaseMode.Unlocked && n),
            Sum((m, r, _) => !r && m == LeaseMode.Locked),
            Sum((m, r, _) => r || m == LeaseMode.Released));
    }

    private sealed record BookPlan(Plan Plan, PlanTerms Terms, List<Payment> Payments);

    // Every plan of the lender's currency that was open at any time in the window, with its schedule and the payments
    // received since the window began (a past date's paid total is today's less what came after it).
    private async Task<List<BookPlan>> BookAsync(Guid lenderId, string currency, DateOnly from, TimeZoneInfo zone, CancellationToken ct)
    {
        var start = Policy.EndOfDay(from.AddDays(-1), zone);
        var plans = await db.Plans.AsNoTracking().Include(p => p.Installments)
            .Where(p => p.LenderId == lenderId && p.Currency == currency && (p.ClosedAt == null || p.ClosedAt >= start))
            .AsSplitQuery().ToListAsync(ct);
        var payments = (await db.Payments.AsNoTracking().Where(p => p.LenderId == lenderId && p.ReceivedAt >= start).ToListAsync(ct))
            .ToLookup(p => p.PlanId);
        return plans.Select(p => new BookPlan(p, p.Terms() with { Cancelled = false }, [.. payments[p.Id]])).ToList();
    }

    private static long PaidBy(BookPlan p, DateTimeOffset at) => p.Plan.PaidTotal - p.Payments.Where(x => x.ReceivedAt >= at).Sum(x => x.Amount);

    private static bool OpenAt(BookPlan p, DateTimeOffset at) => p.Plan.CreatedAt <= at && (p.Plan.ClosedAt is not { } c || c > at);

    private static IReadOnlyList<AgingBucket> Aging(List<BookPlan> book, DateTimeOffset now, TimeZoneInfo zone)
    {
        var states = book.Where(p => p.Plan.Lifecycle == PlanLifecycle.Active)
            .Select(p => Policy.StateOf(p.Terms, p.Plan.PaidTotal, zone, now)).Where(s => s.Status == PlanStatus.Overdue).ToList();
        return Buckets.Select(b =>
        {
            var inside = states.Where(s => s.DaysPastDue >= b.From && (b.To is not { } to || s.DaysPastDue <= to)).ToList();
            return new AgingBucket(b.Label, b.From, b.To, inside.Count, inside.Sum(s => s.AmountOverdue));
        }).ToList();
    }

    /// <summary>PAR30 and PAR90 at the end of each of the last <see cref="Weeks"/> weeks (the last point is now).</summary>
    private static IReadOnlyList<ParPoint> Par(List<BookPlan> book, DateOnly today, DateTimeOffset now, TimeZoneInfo zone) =>
        Enumerable.Range(0, Weeks + 1).Reverse().Select(w =>
        {
            var date = today.AddDays(-7 * w);
            var at = w == 0 ? now : Policy.EndOfDay(date, zone).AddTicks(-1);
            long outstanding = 0, risk30 = 0, risk90 = 0;
            foreach (var p in book.Where(p => OpenAt(p, at)))
            {
                var s = Policy.StateOf(p.Terms, PaidBy(p, at), zone, at);
                outstanding += s.Outstanding;
                if (s.DaysPastDue > 30) risk30 += s.Outstanding;
                if (s.DaysPastDue > 90) risk90 += s.Outstanding;
            }
            return new ParPoint(date, outstanding, risk30, risk90, Ratio(risk30, outstanding), Ratio(risk90, outstanding));
        }).ToList();

    /// <summary>Per week (the last one ends today): installments falling due in it, payments received in it (reversals net), and their ratio.</summary>
    private static IReadOnlyList<CollectionPoint> Collections(List<BookPlan> book, DateOnly today, TimeZoneInfo zone) =>
        Enumerable.Range(0, Weeks).Reverse().Select(w =>
        {
            var to = today.AddDays(-7 * w);
            var from = to.AddDays(-6);
            var (start, end) = (Policy.EndOfDay(from.AddDays(-1), zone), Policy.EndOfDay(to, zone));
            var due = book.Sum(p => p.Terms.Schedule.Where(i => i.DueDate >= from && i.DueDate <= to).Sum(i => i.Amount));
            var collected = book.Sum(p => p.Payments.Where(x => x.ReceivedAt >= start && x.ReceivedAt < end).Sum(x => x.Amount));
            return new CollectionPoint(from, to, due, collected, Ratio(collected, due));
        }).ToList();

    private static IReadOnlyList<PaymentDay> PaymentsPerDay(List<BookPlan> book, DateOnly today, TimeZoneInfo zone)
    {
        var byDay = book.SelectMany(p => p.Payments).Where(x => x.Kind == PaymentKind.Payment)
            .GroupBy(x => Policy.LocalDate(x.ReceivedAt, zone)).ToDictionary(g => g.Key, g => (g.Count(), g.Sum(x => x.Amount)));
        return Enumerable.Range(0, Days).Reverse().Select(d => today.AddDays(-d))
            .Select(d => byDay.TryGetValue(d, out var v) ? new PaymentDay(d, v.Item1, v.Item2) : new PaymentDay(d, 0, 0)).ToList();
    }

    /// <summary>
    /// From an unlock's commit (an Unlocked lease that follows a Locked one: a payment, a promise, a goodwill unlock) to the
    /// device's acknowledgement of applying it, for unlocks applied in the last 24 hours; renewals are not unlocks.
    /// </summary>
    public async Task<UnlockLatency> LatencyAsync(Guid lenderId, DateTimeOffset now, CancellationToken ct)
    {
        var since = now.AddHours(-24);
        var leases = await (from l in db.Leases.AsNoTracking()
                            where l.LenderId == lenderId && l.Mode == LeaseMode.Unlocked && l.AppliedAt != null && l.AppliedAt >= since
                            join before in db.Leases on new { l.DeviceId, Seq = l.Seq - 1 } equals new { before.DeviceId, before.Seq }
                            where before.Mode == LeaseMode.Locked
                            select new { l.CreatedAt, l.AppliedAt }).ToListAsync(ct);
        var ms = leases.Select(l => (long)Math.Max(0, (l.AppliedAt!.Value - l.CreatedAt).TotalMilliseconds)).Order().ToList();
        return new UnlockLatency(since, now, ms.Count, Rank(ms, 50), Rank(ms, 99));
    }

    // Nearest rank (the smallest value at or above p % of them).
    private static long? Rank(List<long> sorted, int p) => sorted.Count == 0 ? null : sorted[Math.Max(0, (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1)];

    private static decimal Ratio(long part, long whole) => whole <= 0 ? 0m : Math.Round((decimal)part / whole, 4);
}
