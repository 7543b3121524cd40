using Lien.Server.Api;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Console.Pages;

[Authorize(Policy = ConsolePolicies.Operator)]
[RequestSizeLimit(DeviceImports.MaxBytes + 64 * 1024)]
internal sealed class ImportModel(LienDb db, DeviceImports imports, DeviceImportRunner runner) : PageModel
{
    public string? Problem { get; private set; }
    public IReadOnlyList<ImportJob> Jobs { get; private set; } = [];

    public Task OnGetAsync(CancellationToken ct) => LoadAsync(ct);

    public async Task<IActionResult> OnPostAsync(IFormFile? file, CancellationToken ct)
    {
        if (file is null || file.Length == 0) Problem = "Choose a CSV file.";
        else if (file.Length > DeviceImports.MaxBytes) Problem = $"The file is larger than {DeviceImports.MaxBytes / 1024 / 1024} MB; split it.";
        else
        {
            using var reader = new StreamReader(file.OpenReadStream());
            var text = await reader.ReadToEndAsync(ct);
            var name = Path.GetFileName(file.FileName);
            name = name.Length is 0 or > 200 || Errors.ControlCharacter(name, "file", false) is not null ? "upload.csv" : name;
            var (job, refusal) = await imports.QueueAsync(User.LenderId(), name, text, User.ConsoleActor(), ct);
            if (job is not null)
            {
                runner.Wake();
                return Redirect($"/console/import/{job.Id}");
            }
            Problem = $"{refusal!.Title}: {refusal.Detail}";
        }
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct) =>
        Jobs = await db.Set<ImportJob>().AsNoTracking().Where(j => j.LenderId == User.LenderId()).OrderByDescending(j => j.CreatedAt).Take(20)
            .Select(j => new ImportJob { Id = j.Id, FileName = j.FileName, Csv = "", CreatedAt = j.CreatedAt, CreatedBy = j.CreatedBy, State = j.State, Total = j.Total,
                Registered = j.Registered, Refused = j.Refused }).ToListAsync(ct);
}
