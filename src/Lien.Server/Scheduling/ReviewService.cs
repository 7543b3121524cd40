using Lien.Server.Disputes;
using Lien.Server.Leases;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Scheduling;

/// <summary>
/// Re-evaluates each plan at its stored next review instant (a lock, a lease renewal), so an overdue plan gets its
/// Locked lease on time. It reads only plans that are due, through an index: its cost follows the work, not the fleet.
/// Due plans are claimed in batches, each reviewed in one unit of work: on PostgreSQL the claim is
/// <c>FOR UPDATE SKIP LOCKED</c>, so several server nodes share a sweep and none reviews a plan another node holds; on
/// SQLite the writer already takes one unit at a time.
/// </summary>
internal sealed class ReviewService(IServiceScopeFactory scopes, TimeProvider time, IOptions<ReviewOptions> options,
    ILogger<ReviewService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReviewDueAsync(stoppingToken);
                await Task.Delay(options.Value.Interval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                log.LogError(e, "Plan review failed; retrying after the interval.");
                await Task.Delay(options.Value.Interval, time, stoppingToken);
            }
        }
    }

    // One pass at a time on a node: a pass asked for while the background one runs (a test's, an operator's) waits for it
    // and then makes its own, so when it returns every plan due at its start has been reviewed (unless another node
    // holds it: SKIP LOCKED passes those over, and that node reviews them).
    private readonly SemaphoreSlim _pass = new(1, 1);

    /// <summary>Reviews every plan due now; returns how many this node reviewed.</summary>
    public async Task<int> ReviewDueAsync(CancellationToken ct)
    {
        await _pass.WaitAsync(ct);
        try
        {
            return await ReviewDuePassAsync(ct);
        }
        finally
        {
            _pass.Release();
        }
    }

    private async Task<int> ReviewDuePassAsync(CancellationToken ct)
    {
        var total = 0;
        var started = time.GetTimestamp();
        var seen = new HashSet<Guid>(); // a plan is reviewed at most once a pass, whatever its next instant says
        while (true)
        {
            var now = time.GetUtcNow();
            var (claimed, reviewed) = await ReviewBatchAsync(now, seen, ct);
            total += reviewed;
            if (claimed > 0) continue;
            if (total > 0) log.LogInformation("Reviewed {Count} due plans in {Seconds:F1} s.", total, time.GetElapsedTime(started).TotalSeconds);
            return total;
        }
    }

    // One batch of due plans in one unit of work. When the batch fails for a reason other than a lost race (which the
    // unit of work redoes itself), its plans are reviewed one per unit instead, so one plan that cannot be reviewed is
    // logged and passed over rather than holding up every plan behind it.
    private async Task<(int Claimed, int Reviewed)> ReviewBatchAsync(DateTimeOffset now, HashSet<Guid> seen, CancellationToken ct)
    {
        List<Guid> claimed = [];
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            var reviewed = await db.InTransactionAsync(async () =>
            {
                claimed = (await ClaimAsync(db, now, ct)).Where(id => !seen.Contains(id)).ToList();
                return await ReviewAsync(scope.ServiceProvider, db, claimed, now, ct);
            }, ct);
            seen.UnionWith(claimed);
            return (claimed.Count, reviewed);
        }
        catch (Exception e) when (claimed.Count > 0 && e is not OperationCanceledException)
        {
            log.LogWarning(e, "A batch of {Count} plan reviews failed; reviewing them one at a time.", claimed.Count);
            seen.UnionWith(claimed);
            var reviewed = 0;
            foreach (var id in claimed)
                if (await ReviewAloneAsync(id, now, ct)) reviewed++;
            return (claimed.Count, reviewed);
        }
    }

    private async Task<bool> ReviewAloneAsync(Guid planId, DateTimeOffset now, CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            return await db.InTransactionAsync(async () => await ReviewAsync(scope.ServiceProvider, db, [planId], now, ct) == 1, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "Plan {PlanId} could not be reviewed; it stays due and is tried again next pass.", planId);
            return false;
        }
    }

    // The ids of up to a batch of due plans, oldest instant first: active plans, and paid-off ones whose device is
    // released at the end of the settlement hold. PostgreSQL locks them until the unit of work commits and skips those
    // another node holds.
    private Task<List<Guid>> ClaimAsync(LienDb db, DateTimeOffset now, CancellationToken ct)
    {
        var batch = options.Value.BatchSize;
        return db.IsSqlite
            ? db.Plans.AsNoTracking().Where(p => p.Lifecycle != PlanLifecycle.Cancelled && p.NextReviewAt != null && p.NextReviewAt <= now)
                .OrderBy(p => p.NextReviewAt).Select(p => p.Id).Take(batch).ToListAsync(ct)
            : db.Database.SqlQuery<Guid>($"""
                SELECT "Id" AS "Value" FROM "Plans"
                WHERE "Lifecycle" <> 'Cancelled' AND "NextReviewAt" IS NOT NULL AND "NextReviewAt" <= {now}
                ORDER BY "NextReviewAt" LIMIT {batch} FOR UPDATE SKIP LOCKED
                """).ToListAsync(ct);
    }

    private static async Task<int> ReviewAsync(IServiceProvider services, LienDb db, IReadOnlyList<Guid> ids, DateTimeOffset now, CancellationToken ct)
    {
        if (ids.Count == 0) return 0;
        var leases = services.GetRequiredService<LeaseIssuer>();
        var disputes = services.GetRequiredService<DisputeDesk>();
        var plans = await db.Plans.Where(p => ids.Contains(p.Id)).ToListAsync(ct);
        var reviewed = 0;
        foreach (var plan in plans.OrderBy(p => p.NextReviewAt))
        {
            // Another writer (a payment, another node on SQLite's file) may have reviewed it since it was claimed.
            if (plan.Lifecycle == PlanLifecycle.Cancelled || plan.NextReviewAt is null || plan.NextReviewAt > now) continue;
            plan.Schedule = await Schedules.OfAsync(db, plan, ct);
            await disputes.ExpireIfDueAsync(plan, ct);
            await leases.ReviewPlanAsync(plan, "scheduled review", "scheduler", ct);
            reviewed++;
        }
        return reviewed;
    }
}
