using Lien.Server.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lien.Server.Console.Pages;

internal sealed class ReportCsvModel(ConsoleCsv exports, TimeProvider time) : PageModel
{
    public async Task<IActionResult> OnGetAsync(string name, CancellationToken ct)
    {
        if (!ConsoleCsv.Names.Contains(name)) return NotFound();
        var bytes = await exports.WriteAsync(name, User.LenderId(), ct);
        return bytes is null ? NotFound() : File(bytes, "text/csv; charset=utf-8", $"lien-{name}-{time.GetUtcNow():yyyy-MM-dd}.csv");
    }
}
