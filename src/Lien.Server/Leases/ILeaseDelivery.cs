using Lien.Server.Devices;
using Lien.Server.Storage;

namespace Lien.Server.Leases;

/// <summary>
/// The one seam between issuing a lease and getting it to the phone. <see cref="LeaseIssuer"/> calls it after it writes
/// a lease for an enrolled device, inside the lease's unit of work; what it arranges (a hand-off to the stream, a
/// notification to other nodes, a push in the outbox) happens only if that unit commits.
/// </summary>
internal interface ILeaseDelivery
{
    Task LeaseWrittenAsync(LienDb db, Device device, long seq, string jws, CancellationToken ct);
}
