using System.Text.Json;
using Lien.Server.Api;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Console.Pages;

/// <summary>An import's progress (refreshing itself while it runs: no script) and its refused rows, on the page and as CSV.</summary>
internal sealed class ImportJobModel(LienDb db) : PageModel
{
    public ImportJob? Job { get; private set; }
    public IReadOnlyList<ImportRowError> Errors { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken ct) => await LoadAsync(id, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnGetErrorsAsync(Guid id, CancellationToken ct) =>
        await LoadAsync(id, ct) ? File(ConsoleCsv.Errors(Errors), "text/csv; charset=utf-8", $"import-{id}-refused.csv") : NotFound();

    private async Task<bool> LoadAsync(Guid id, CancellationToken ct)
    {
        Job = await db.Set<ImportJob>().AsNoTracking().Where(j => j.Id == id && j.LenderId == User.LenderId())
            .Select(j => new ImportJob { Id = j.Id, FileName = j.FileName, Csv = "", CreatedAt = j.CreatedAt, CreatedBy = j.CreatedBy, State = j.State, Total = j.Total,
                Processed = j.Processed, Registered = j.Registered, Refused = j.Refused, ErrorsJson = j.ErrorsJson }).FirstOrDefaultAsync(ct);
        if (Job is null) return false;
        Errors = JsonSerializer.Deserialize<List<ImportRowError>>(Job.ErrorsJson, Json.Options) ?? [];
        return true;
    }
}
