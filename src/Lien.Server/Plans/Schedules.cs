using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Plans;

/// <summary>
/// Plans' schedules for the paths that only read them (a payment, a scheduled review): from the plan's own row
/// (<see cref="Plan.ScheduleRuns"/>), so the cost of a payment does not grow with the number of plans or installments.
/// A plan whose row has no runs (none should: the migration that added them filled them) reads its installments' rows.
/// </summary>
internal static class Schedules
{
    private static readonly CompiledQuery<Func<LienDb, Guid, IAsyncEnumerable<Installment>>> InstallmentsOf = new(() => EF.CompileAsyncQuery(
        (LienDb db, Guid planId) => db.PlanInstallments.AsNoTracking().Where(i => i.PlanId == planId).OrderBy(i => i.Number)
            .Select(i => new Installment(i.Number, i.DueDate, i.Amount))));

    /// <summary><paramref name="plan"/>'s installments in order, read through <paramref name="db"/> (its unit of work) only when its row has no runs.</summary>
    public static async Task<IReadOnlyList<Installment>> OfAsync(LienDb db, Plan plan, CancellationToken ct) =>
        plan.ScheduleRuns is { } runs ? ScheduleRuns.Decode(runs) : await InstallmentsOf.For(db)(db, plan.Id).ToListAsync(ct);
}
