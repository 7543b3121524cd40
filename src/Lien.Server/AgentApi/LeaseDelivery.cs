using Lien.Server.Devices;
using Lien.Server.Leases;
using Lien.Server.Push;
using Lien.Server.Storage;
using Microsoft.Extensions.Options;

namespace Lien.Server.AgentApi;

/// <summary>
/// Gets a committed lease to its device by every path there is: this node's stream at once, other nodes' streams
/// through PostgreSQL NOTIFY (delivered only if, and when, the transaction commits), and a push in the outbox that wakes
/// the device to check in if no stream has delivered it shortly.
/// </summary>
internal sealed class LeaseDelivery(StreamHub hub, LeaseAnnouncements announcements, IOptions<PushOptions> push, TimeProvider time) : ILeaseDelivery
{
    public async Task LeaseWrittenAsync(LienDb db, Device device, long seq, string jws, CancellationToken ct)
    {
        var id = device.Id;
        var postgres = !db.IsSqlite;
        db.AfterCommit(() =>
        {
            hub.LeaseCommitted(id, seq, jws);
            if (postgres) announcements.Committed(id);
        });
        if (device.PushToken is not null) // with the lease's own row: tracked, for the same save, if the device is new in this unit
            await RawInsert.AddAsync(db, new PushMessage { DeviceId = id, Seq = seq, DueAt = time.GetUtcNow() + push.Value.Delay }, ct, unsaved: device);
    }
}
