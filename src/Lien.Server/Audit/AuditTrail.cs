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
        if (db.IsSqlite && db.Database.CurrentTransaction is not null) await InsertAsync(e, ct);
        else db.AuditEvents.Add(e);
        if (_wakesAfter != db.UnitOfWork)
        {
            _wakesAfter = db.UnitOfWork;
            db.AfterCommit(sequencer.Wake);
        }
        foreach (var listener in _listeners) await listener.RecordedAsync(db, e, ct);
    }

    // On SQLite, inside a unit of work, the event is inserted at once by a statement the writer keeps prepared, not
    // tracked for the unit's save: every payment writes two, and as entities they were a third of the save's work on the
    // one writer (EF's change detection, command ordering and batching). Its id is taken then, on the one writer in the
    // open transaction, so ids still follow commit order; a unit rolled back takes it with it. PostgreSQL keeps the
    // entity, whose insert goes in the save's one batch, a round trip shared with the unit's other writes.
    private async Task InsertAsync(AuditEvent e, CancellationToken ct)
    {
        using var insert = new RawCommand<AuditEvent>(db, """
            INSERT INTO "AuditEvents" ("LenderId", "EventId", "At", "Actor", "Action", "Subject", "Reason", "Policy", "Data", "Mac")
            VALUES (@LenderId, @EventId, @At, @Actor, @Action, @Subject, @Reason, @Policy, @Data, @Mac)
            """);
        await insert.With(nameof(AuditEvent.LenderId), e.LenderId).With(nameof(AuditEvent.EventId), e.EventId).With(nameof(AuditEvent.At), e.At)
            .With(nameof(AuditEvent.Actor), e.Actor).With(nameof(AuditEvent.Action), e.Action).With(nameof(AuditEvent.Subject), e.Subject)
            .With(nameof(AuditEvent.Reason), e.Reason).With(nameof(AuditEvent.Policy), e.Policy).With(nameof(AuditEvent.Data), e.Data)
            .With(nameof(AuditEvent.Mac), e.Mac).ExecuteAsync(ct);
    }
}
