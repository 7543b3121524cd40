using Lien.Server.Api;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Console.Pages;

internal sealed class DevicesModel(DeviceBook book, LienDb db, TimeProvider time) : PageModel
{
    public string? Q { get; private set; }
    public DeviceStateFilter? State { get; private set; }
    public int? Dpd { get; private set; }
    public string? Problem { get; private set; }
    public DevicePage Result { get; private set; } = new([], 0, 1, DeviceBook.PageSize);

    public async Task OnGetAsync(string? q, string? state, string? dpd, string? pg, CancellationToken ct)
    {
        var errors = new Errors().Text(q, "q", 20).Text(state, "state", 16).Text(dpd, "dpd", 5).Text(pg, "pg", 6);
        DeviceStateFilter? filter = Enum.TryParse<DeviceStateFilter>(state, ignoreCase: true, out var f) && Enum.IsDefined(f) ? f : null;
        int? days = int.TryParse(dpd, out var n) && n is >= 0 and <= 3650 ? n : null;
        var number = int.TryParse(pg, out var p) && p is >= 1 and <= 100_000 ? p : 1;
        if (errors.Any || (state is { Length: > 0 } && filter is null) || (dpd is { Length: > 0 } && days is null))
        {
            Problem = "The search could not be read: up to 20 characters, a state from the list, days from 0 to 3650.";
            return;
        }
        (Q, State, Dpd) = (q?.Trim(), filter, days);
        var zone = await db.Lenders.AsNoTracking().Where(l => l.Id == User.LenderId()).Select(l => l.TimeZone).FirstAsync(ct);
        var today = Policy.LocalDate(time.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById(zone));
        Result = await book.FindAsync(User.LenderId(), today, Q, State, Dpd, number, ct);
    }

    public string PageLink(int page) => QueryHelpers.AddQueryString("/console/devices", new Dictionary<string, string?>
    {
        ["q"] = Q, ["state"] = State?.ToString(), ["dpd"] = Dpd?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["pg"] = page.ToString(System.Globalization.CultureInfo.InvariantCulture),
    }.Where(kv => kv.Value is { Length: > 0 }));
}
