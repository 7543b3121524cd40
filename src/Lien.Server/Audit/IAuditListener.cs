using Lien.Server.Storage;

namespace Lien.Server.Audit;

/// <summary>
/// Told of each audit event as <see cref="AuditTrail"/> adds it to the unit of work, so what it writes commits or rolls
/// back with the event (the webhook outbox is one). Registered as <c>IEnumerable&lt;IAuditListener&gt;</c>; none is valid.
/// A listener must not touch the database when it has nothing to write: it runs on every state change, payments included.
/// </summary>
internal interface IAuditListener
{
    ValueTask RecordedAsync(LienDb db, AuditEvent e, CancellationToken ct);
}
