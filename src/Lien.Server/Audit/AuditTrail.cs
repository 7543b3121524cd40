using System.Text.Json;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Audit;

/// <summary>
/// Appends audit events in the caller's unit of work, chained per lender (<see cref="AuditChain"/>). The first event of
/// a lender in a unit of work takes that lender's write lock (<see cref="Transactions.LockLenderAsync"/>), so the
/// lender's writers take their turns for the next seq instead of colliding on it.
/// </summary>
internal sealed class AuditTrail(LienDb db, AuditChain chain, TimeProvider time)
{
    private readonly Dictionary<Guid, AuditEvent> _heads = [];

    public async Task RecordAsync(Guid lenderId, string actor, AuditAction action, string subject,
        string? reason = null, string? policy = null, object? data = null, CancellationToken ct = default)
    {
        // The head written earlier in this unit of work, unless the unit was rolled back and redone since.
        if (!_heads.TryGetValue(lenderId, out var head) || db.Entry(head).State != EntityState.Added)
        {
            await db.LockLenderAsync(lenderId, ct);
            head = await db.AuditEvents.AsNoTracking().Where(e => e.LenderId == lenderId)
                .OrderByDescending(e => e.Seq).FirstOrDefaultAsync(ct);
        }
        var e = new AuditEvent
        {
            LenderId = lenderId,
            Seq = (head?.Seq ?? 0) + 1,
            At = AuditChain.Stored(time.GetUtcNow()),
            Actor = actor,
            Action = action.Name,
            Subject = subject,
            Reason = reason,
            Policy = policy,
            Data = data is null ? null : JsonSerializer.Serialize(data, Api.Json.Options),
            PrevHash = head?.Hash ?? AuditChain.Genesis,
            Hash = "",
        };
        e.Hash = chain.HashOf(e);
        db.AuditEvents.Add(e);
        _heads[lenderId] = e;
    }
}
