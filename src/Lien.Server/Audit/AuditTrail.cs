using System.Text.Json;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Audit;

/// <summary>
/// Records audit events in the caller's unit of work, chained per lender (<see cref="AuditChain"/>). An event is
/// queued when it happens and sequenced just before the unit saves: then, per lender, the lender's write lock is taken
/// (<see cref="Transactions.LockLenderAsync"/>), the head read, and each queued event given the next seq and its hash.
/// The lock is held only for those last statements and the commit, and a lender's writers take turns for the next
/// seq instead of colliding on it.
/// </summary>
internal sealed class AuditTrail(LienDb db, AuditChain chain, TimeProvider time)
{
    private readonly List<AuditEvent> _queued = [];
    private long _unitOfWork = -1;

    public Task RecordAsync(Guid lenderId, string actor, AuditAction action, string subject,
        string? reason = null, string? policy = null, object? data = null, CancellationToken ct = default)
    {
        if (_unitOfWork != db.UnitOfWork) _queued.Clear(); // queued by a unit of work that was rolled back
        _unitOfWork = db.UnitOfWork;
        if (_queued.Count == 0) db.BeforeSave(SequenceAsync);
        _queued.Add(new AuditEvent
        {
            LenderId = lenderId,
            At = AuditChain.Stored(time.GetUtcNow()),
            Actor = actor,
            Action = action.Name,
            Subject = subject,
            Reason = reason,
            Policy = policy,
            Data = data is null ? null : JsonSerializer.Serialize(data, Api.Json.Options),
            PrevHash = "",
            Hash = "",
        });
        return Task.CompletedTask;
    }

    private async Task SequenceAsync(CancellationToken ct)
    {
        var events = _queued.ToList();
        _queued.Clear();
        foreach (var lender in events.GroupBy(e => e.LenderId))
        {
            await db.LockLenderAsync(lender.Key, ct);
            var head = await db.AuditEvents.AsNoTracking().Where(e => e.LenderId == lender.Key)
                .OrderByDescending(e => e.Seq).Select(e => new { e.Seq, e.Hash }).FirstOrDefaultAsync(ct);
            var (seq, prev) = (head?.Seq ?? 0, head?.Hash ?? AuditChain.Genesis);
            foreach (var e in lender)
            {
                e.Seq = ++seq;
                e.PrevHash = prev;
                e.Hash = prev = chain.HashOf(e);
                db.AuditEvents.Add(e);
            }
        }
    }
}
