using System.Text.Json;
using Lien.Server.Storage;

namespace Lien.Server.Audit;

/// <summary>
/// Records audit events in the caller's unit of work, each with the keyed MAC of what it says
/// (<see cref="AuditChain.MacOf"/>), and nothing else: no lock, no read. They commit or roll back with the change they
/// record; <see cref="AuditSequencer"/>, woken once the unit has committed, chains them per lender. Each
/// <see cref="IAuditListener"/> (the webhook outbox) is told of the event in the same unit of work.
/// </summary>
internal sealed class AuditTrail(LienDb db, AuditChain chain, AuditSequencer sequencer, IEnumerable<IAuditListener> listeners, TimeProvider time)
{
    private long _wakesAfter = -1;

    private readonly IAuditListener[] _listeners = listeners.ToArray();

    public async Task RecordAsync(Guid lenderId, string actor, AuditAction action, string subject,
        string? reason = null, string? policy = null, object? data = null, CancellationToken ct = default)
    {
        var at = AuditChain.Stored(time.GetUtcNow());
        var e = new AuditEvent
        {
            LenderId = lenderId,
            EventId = Guid.CreateVersion7(at),
            At = at,
            Actor = actor,
            Action = action.Name,
            Subject = subject,
            Reason = reason,
            Policy = policy,
            Data = data is null ? null : JsonSerializer.Serialize(data, Api.Json.Options),
        };
        e.Mac = chain.MacOf(e);
        // Inside a unit of work written by RawInsert: on SQLite at once, its id then taken on the one writer in the open
        // transaction, so ids still follow commit order; on PostgreSQL in the unit's one round trip of writes.
        await RawInsert.AddAsync(db, e, ct);
        if (_wakesAfter != db.UnitOfWork)
        {
            _wakesAfter = db.UnitOfWork;
            db.AfterCommit(sequencer.Wake);
        }
        foreach (var listener in _listeners) await listener.RecordedAsync(db, e, ct);
    }
}
