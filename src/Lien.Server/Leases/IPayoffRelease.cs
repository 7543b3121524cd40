using Lien.Server.Devices;
using Lien.Server.Lenders;
using Lien.Server.Plans;

namespace Lien.Server.Leases;

/// <summary>
/// The one seam for what follows a paid-off plan's release (a payoff certificate; next: the webhook "plan paid off,
/// device released"). <see cref="LeaseIssuer"/> calls it once per device, in the unit of work that releases it — the
/// settlement hold over — so what it writes commits with the release or not at all.
/// </summary>
internal interface IPayoffRelease
{
    Task ReleasedAsync(Lender lender, Plan plan, Device device, DateTimeOffset releasedAt, string actor, CancellationToken ct);
}
