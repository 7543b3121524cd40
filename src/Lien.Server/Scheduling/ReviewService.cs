using Lien.Server.Leases;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Scheduling;

/// <summary>
/// Re-evaluates each plan at its stored next review instant (a lock, a lease renewal), so an overdue plan gets its
/// Locked lease on time. It reads only plans that are due, through an index: its cost follows the work, not the fleet.
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

    /// <summary>Reviews every plan due now; returns how many were reviewed.</summary>
    public async Task<int> ReviewDueAsync(CancellationToken ct)
    {
        var total = 0;
        var seen = new HashSet<Guid>(); // a plan is reviewed at most once a pass, whatever its next instant says
        while (true)
        {
            var now = time.GetUtcNow();
            List<Guid> due;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<LienDb>();
                // A paid-off plan is reviewed too: its device is released at the end of the settlement hold.
                due = await db.Plans.AsNoTracking().Where(p => p.Lifecycle != PlanLifecycle.Cancelled && p.NextReviewAt != null && p.NextReviewAt <= now)
                    .OrderBy(p => p.NextReviewAt).Select(p => p.Id).Take(options.Value.BatchSize).ToListAsync(ct);
            }
            due.RemoveAll(id => !seen.Add(id));
            if (due.Count == 0) return total;
            foreach (var id in due)
                if (await ReviewOneAsync(id, now, ct)) total++;
        }
    }

    private async Task<bool> ReviewOneAsync(Guid planId, DateTimeOffset now, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        var leases = scope.ServiceProvider.GetRequiredService<LeaseIssuer>();
        return await db.InTransactionAsync(async () =>
        {
            var plan = await db.Plans.Include(p => p.Installments).FirstAsync(p => p.Id == planId, ct);
            // Another writer (a payment, another node) may have reviewed it already.
            if (plan.Lifecycle == PlanLifecycle.Cancelled || plan.NextReviewAt is null || plan.NextReviewAt > now) return false;
            await leases.ReviewPlanAsync(plan, "scheduled review", "scheduler", ct);
            return true;
        }, ct);
    }
}
