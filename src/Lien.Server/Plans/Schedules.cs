using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace Lien.Server.Plans;

/// <summary>
/// Plans' schedules for the paths that only read them (a payment reads its plan's every installment). A schedule is
/// written once, with its plan, and never changed, so a copy kept in memory cannot go stale, on this node or another;
/// the copies are bounded by their total number of installments, least recently used first out.
/// </summary>
internal sealed class Schedules : IDisposable
{
    /// <summary>The most installments kept in memory (a few dozen bytes each).</summary>
    public const long Capacity = 250_000;

    private static readonly CompiledQuery<Func<LienDb, Guid, IAsyncEnumerable<Installment>>> InstallmentsOf = new(() => EF.CompileAsyncQuery(
        (LienDb db, Guid planId) => db.PlanInstallments.AsNoTracking().Where(i => i.PlanId == planId).OrderBy(i => i.Number)
            .Select(i => new Installment(i.Number, i.DueDate, i.Amount))));

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = Capacity });

    /// <summary>Plan <paramref name="planId"/>'s installments in order, read through <paramref name="db"/> (its unit of work) when not in memory.</summary>
    public async Task<IReadOnlyList<Installment>> OfAsync(LienDb db, Guid planId, CancellationToken ct)
    {
        if (_cache.TryGetValue(planId, out IReadOnlyList<Installment>? known)) return known!;
        var read = await InstallmentsOf.For(db)(db, planId).ToListAsync(ct);
        // A plan being created in this very unit of work has no rows yet: nothing is kept for it.
        if (read.Count > 0) _cache.Set(planId, (IReadOnlyList<Installment>)read, new MemoryCacheEntryOptions { Size = read.Count });
        return read;
    }

    public void Dispose() => _cache.Dispose();
}
