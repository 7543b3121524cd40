using Lien.Server.Leases;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.TestSupport;

/// <summary>One notice as an <c>INoticeListener</c> was told of it, and whether its lease was in the same unit of work.</summary>
public sealed record RecordedNotice(Guid DeviceId, Guid PlanId, string Kind, DateTimeOffset At, long Amount, DateTimeOffset? Deadline, long LeaseSeq, bool WithItsLease);

/// <summary>
/// An <c>INoticeListener</c> every test server registers: what the SMS outbox (or any listener) would be told. A unit of work
/// redone after a conflict tells it again; what it wrote in the transaction would have been rolled back, so the last word
/// for a lease counts.
/// </summary>
public sealed class NoticeRecorder : INoticeListener
{
    private readonly Dictionary<(Guid, long), RecordedNotice> _notices = [];

    public IReadOnlyList<RecordedNotice> For(Guid deviceId)
    {
        lock (_notices) return _notices.Values.Where(n => n.DeviceId == deviceId).OrderBy(n => n.LeaseSeq).ToList();
    }

    // The lease is in the same unit when it waits in the unit's save (PostgreSQL) or was inserted in its open transaction
    // (SQLite: RawInsert), never when the listener is told outside a transaction.
    async Task INoticeListener.NoticeIssuedAsync(LienDb db, NoticeIssued notice, CancellationToken ct)
    {
        var withLease = db.ChangeTracker.Entries<LeaseRecord>().Any(e => e.Entity.DeviceId == notice.DeviceId && e.Entity.Seq == notice.LeaseSeq)
                        || db.Database.CurrentTransaction is not null
                        && await db.Leases.AnyAsync(l => l.DeviceId == notice.DeviceId && l.Seq == notice.LeaseSeq, ct);
        lock (_notices)
            _notices[(notice.DeviceId, notice.LeaseSeq)] = new RecordedNotice(notice.DeviceId, notice.PlanId, notice.Kind, notice.At, notice.Amount, notice.Deadline,
                notice.LeaseSeq, withLease);
    }
}
