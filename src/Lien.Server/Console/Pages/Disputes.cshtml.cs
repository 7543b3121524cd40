using Lien.Server.Api;
using Lien.Server.Disputes;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Console.Pages;

internal sealed record OpenDispute(Guid DeviceId, string Imei, DisputeKind Kind, string? Text, DateTimeOffset OpenedAt, DateTimeOffset ExpiresAt);

internal sealed class DisputesModel(LienDb db) : PageModel
{
    public IReadOnlyList<OpenDispute> Open { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct) =>
        Open = await (from d in db.Set<Dispute>().AsNoTracking()
                      where d.LenderId == User.LenderId() && d.State == DisputeState.Open
                      join device in db.Devices on d.DeviceId equals device.Id
                      orderby d.OpenedAt
                      select new OpenDispute(d.DeviceId, device.Imei, d.Kind, d.Text, d.OpenedAt, d.ExpiresAt)).Take(500).ToListAsync(ct);
}
