using Lien.Server.Api;
using Lien.Server.Reports;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lien.Server.Console.Pages;

internal sealed class IndexModel(PortfolioReports reports) : PageModel
{
    public Dashboard Dashboard { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken ct) => Dashboard = await reports.DashboardAsync(User.LenderId(), ct);
}
