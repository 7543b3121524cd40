using Lien.Protocol.Lending;

namespace Lien.Protocol.Tests.Lending;

/// <summary>One lease the walk issued: when, and what the policy decided.</summary>
internal sealed record WalkedLease(DateTimeOffset At, PolicyDecision Decision, long PaidTotal, PlanHolds Holds);

/// <summary>
/// The server's use of the policy, without the server: evaluate, hold the lease it wants, wake at its next review instant
/// or at the next payment or hold change, and so on to the end. Every lease issued is kept, so tests read the notices in
/// order and check the invariants over the whole history.
/// </summary>
internal static class PolicyWalk
{
    public static List<WalkedLease> Run(LenderTerms lender, PlanTerms plan, DateTimeOffset from, DateTimeOffset to,
        IReadOnlyList<(DateTimeOffset At, long Amount)>? payments = null, IReadOnlyList<(DateTimeOffset At, PlanHolds Holds)>? holds = null)
    {
        var events = (payments ?? []).Select(p => p.At).Concat((holds ?? []).Select(h => h.At)).Where(t => t >= from).OrderBy(t => t).ToList();
        var log = new List<WalkedLease>();
        HeldLease? held = null;
        var t = from;
        for (var guard = 0; guard < 5000 && t <= to; guard++)
        {
            var paid = (payments ?? []).Where(p => p.At <= t).Sum(p => p.Amount);
            var hold = (holds ?? []).Where(h => h.At <= t).Select(h => h.Holds).LastOrDefault() ?? PlanHolds.None;
            var d = Policy.Evaluate(new PolicyInput(lender, plan, paid, false, held, hold), t);
            if (d.IssueNewLease)
            {
                held = new HeldLease(d.Mode, d.UnlockedUntil, d.Screen, d.Reason, d.Notice);
                log.Add(new WalkedLease(t, d, paid, hold));
            }
            if (d.NextReviewAt is { } r && r <= t) throw new InvalidOperationException($"Next review {r:O} is not after {t:O}.");
            var nextEvent = events.FirstOrDefault(e => e > t);
            DateTimeOffset? next = d.NextReviewAt;
            if (nextEvent != default && (next is null || nextEvent < next)) next = nextEvent;
            if (next is null) break;
            t = next.Value;
        }
        return log;
    }

    /// <summary>The notices in the order they were first issued (a renewal carrying the same notice is not counted again).</summary>
    public static List<(DateTimeOffset At, Notice Notice)> Notices(List<WalkedLease> log)
    {
        var list = new List<(DateTimeOffset, Notice)>();
        Notice? last = null;
        foreach (var l in log)
        {
            var n = l.Decision.Notice;
            if (n is not null && (last is null || n.Kind != last.Kind || n.Installment != last.Installment || n.Deadline != last.Deadline))
                list.Add((l.At, n));
            last = n;
        }
        return list;
    }
}
