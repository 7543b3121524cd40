using System.Text;
using System.Text.Json;
using Lien.Server.Api;
using Lien.Server.Devices;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Console;

/// <summary>
/// The console's bulk import: the file is read by <see cref="DeviceCsv"/> when it is uploaded (a file the API's import
/// would refuse as a whole is refused here the same way), kept with a queued <see cref="ImportJob"/>, and registered by
/// <see cref="DeviceRegistry"/> in slices of <see cref="Slice"/> rows, one transaction each, the job's counters moving
/// with every slice — the same rules as <c>POST /v1/devices/import</c>, row for row.
/// </summary>
internal sealed class DeviceImports(LienDb db, DeviceRegistry registry, PlanBook plans, TimeProvider time)
{
    /// <summary>The optional plan columns: a row that gives a price opens a plan for its device through <see cref="PlanBook"/> (amounts in major units).</summary>
    public static readonly IReadOnlyList<string> PlanColumns = ["price", "down_payment", "installments", "frequency", "first_due", "borrower_reference", "borrower_phone"];

    public const int Slice = 500;
    public const int MaxBytes = 2 * 1024 * 1024;

    /// <summary>Queues <paramref name="csv"/> (already read whole) for import; a refused file queues nothing.</summary>
    public async Task<(ImportJob? Job, CsvRefusal? Refusal)> QueueAsync(Guid lenderId, string fileName, string csv, string actor, CancellationToken ct)
    {
        var (rows, refusal) = await DeviceCsv.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), ct);
        if (refusal is not null) return (null, refusal);
        var job = new ImportJob
        {
            Id = Guid.CreateVersion7(), LenderId = lenderId, FileName = fileName, Csv = csv, CreatedAt = time.GetUtcNow(), CreatedBy = actor,
            State = ImportState.Queued, Total = rows.Count,
        };
        db.Set<ImportJob>().Add(job);
        await db.InTransactionAsync(async () => await db.SaveChangesAsync(ct), ct);
        return (job, null);
    }

    /// <summary>How long a node holds a job between two slices before another may take it up.</summary>
    public static readonly TimeSpan Hold = TimeSpan.FromMinutes(2);

    /// <summary>Claims the oldest job not done and not held by another node, and runs it to its end; false when none was waiting.</summary>
    public async Task<bool> RunNextAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var id = await db.Set<ImportJob>().AsNoTracking().Where(j => j.State != ImportState.Done && (j.HeldUntil == null || j.HeldUntil < now))
            .OrderBy(j => j.CreatedAt).Select(j => (Guid?)j.Id).FirstOrDefaultAsync(ct);
        if (id is null) return false;
        // One conditional update: of two nodes (or runners) that found the same job, one takes it.
        var held = await db.InTransactionAsync(() => db.Set<ImportJob>()
            .Where(j => j.Id == id && j.State != ImportState.Done && (j.HeldUntil == null || j.HeldUntil < now))
            .ExecuteUpdateAsync(u => u.SetProperty(j => j.HeldUntil, now + Hold), ct), ct);
        if (held == 1) await RunAsync(id.Value, ct);
        return true;
    }

    // The plan columns of each row that has a price, by the row's line (the same numbering as DeviceCsv's).
    private static Dictionary<int, Dictionary<string, string>> PlanRows(string text)
    {
        var rows = new Dictionary<int, Dictionary<string, string>>();
        using var csv = new CsvHelper.CsvReader(new StringReader(text), new CsvHelper.Configuration.CsvConfiguration(System.Globalization.CultureInfo.InvariantCulture)
        {
            PrepareHeaderForMatch = a => a.Header.Trim().ToLowerInvariant(), MissingFieldFound = null, BadDataFound = null, DetectDelimiter = true,
        });
        if (!csv.Read()) return rows;
        csv.ReadHeader();
        var header = csv.HeaderRecord!.Select(h => h.Trim().ToLowerInvariant()).ToList();
        if (!header.Contains("price")) return rows;
        while (csv.Read())
            if (csv.TryGetField<string>("price", out var price) && !string.IsNullOrWhiteSpace(price))
                rows[csv.Parser.RawRow] = header.Where(h => h == "imei" || PlanColumns.Contains(h))
                    .ToDictionary(h => h, h => csv.TryGetField<string>(h, out var v) ? v?.Trim() ?? "" : "");
        return rows;
    }

    private static CreatePlan? Plan(Dictionary<string, string> row, Guid deviceId, string currency)
    {
        if (!AmountWords.TryParse(row.GetValueOrDefault("price"), currency, out var price)) return null;
        var down = 0L;
        if (row.GetValueOrDefault("down_payment") is { Length: > 0 } d && !AmountWords.TryParse(d, currency, out down) && d != "0") return null;
        if (!int.TryParse(row.GetValueOrDefault("installments"), out var count) || count is < 1 or > 120) return null;
        if (!Enum.TryParse<Frequency>(row.GetValueOrDefault("frequency") is { Length: > 0 } f ? f : "Monthly", ignoreCase: true, out var frequency)
            || !Enum.IsDefined(frequency) || row.GetValueOrDefault("frequency", "").Any(char.IsDigit)) return null;
        if (!DateOnly.TryParseExact(row.GetValueOrDefault("first_due"), "yyyy-MM-dd", out var first)) return null;
        return new CreatePlan(deviceId, Blank(row.GetValueOrDefault("borrower_reference")), price, down, currency, null, new GenerateSchedule(count, frequency, first),
            BorrowerPhone: Blank(row.GetValueOrDefault("borrower_phone")));
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    public async Task RunAsync(Guid jobId, CancellationToken ct)
    {
        var job = await db.Set<ImportJob>().AsNoTracking().FirstAsync(j => j.Id == jobId, ct);
        var (rows, _) = await DeviceCsv.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(job.Csv)), ct);
        var planRows = PlanRows(job.Csv);
        var currency = await db.Lenders.AsNoTracking().Where(l => l.Id == job.LenderId).Select(l => l.Currency).FirstAsync(ct);
        // A job stopped half way (the server restarted) goes on after the rows it finished.
        foreach (var slice in rows.Skip(job.Processed).Chunk(Slice))
        {
            var registered = await db.InTransactionAsync(async () =>
            {
                var lender = await db.Lenders.FirstAsync(l => l.Id == job.LenderId, ct);
                var tracked = await db.Set<ImportJob>().FirstAsync(j => j.Id == jobId, ct);
                var outcomes = await registry.RegisterAsync(lender, slice, job.CreatedBy, ct);
                var errors = JsonSerializer.Deserialize<List<ImportRowError>>(tracked.ErrorsJson, Json.Options) ?? [];
                var byLine = slice.ToDictionary(r => r.Line, r => r.Row.Imei);
                errors.AddRange(outcomes.Where(o => o.Refused is not null).Select(o => new ImportRowError(o.Line, byLine.GetValueOrDefault(o.Line), o.Refused!)));
                tracked.ErrorsJson = JsonSerializer.Serialize(errors, Json.Options);
                tracked.State = ImportState.Running;
                tracked.HeldUntil = time.GetUtcNow() + Hold;
                tracked.Processed += slice.Length;
                tracked.Registered += outcomes.Count(o => o.Device is not null);
                tracked.Refused += outcomes.Count(o => o.Refused is not null);
                await db.SaveChangesAsync(ct);
                return outcomes.Where(o => o.Device is not null).Select(o => (o.Line, o.Device!.Id)).ToList();
            }, ct);
            db.ChangeTracker.Clear();
            // Each plan in a unit of work of its own (PlanBook's), after its device's slice committed: a refused plan leaves the device registered.
            var planErrors = new List<ImportRowError>();
            foreach (var (line, deviceId) in registered)
            {
                if (!planRows.TryGetValue(line, out var row)) continue;
                var problem = Plan(row, deviceId, currency) is not { } body ? "the plan columns could not be read (price, down_payment in major units; installments 1-120; frequency Monthly, Weekly or Daily; first_due yyyy-MM-dd)"
                    : await plans.CreateAsync(job.LenderId, body, job.CreatedBy, ct) switch
                    {
                        PlanOutcome.Invalid i => string.Join(" ", i.Errors.Problem().ProblemDetails.Errors.SelectMany(e => e.Value)),
                        PlanOutcome.Refused r => r.Detail,
                        _ => null,
                    };
                if (problem is not null) planErrors.Add(new ImportRowError(line, row.GetValueOrDefault("imei"), "Device registered; plan refused: " + problem));
                db.ChangeTracker.Clear();
            }
            if (planErrors.Count > 0)
                await db.InTransactionAsync(async () =>
                {
                    var tracked = await db.Set<ImportJob>().FirstAsync(j => j.Id == jobId, ct);
                    var errors = JsonSerializer.Deserialize<List<ImportRowError>>(tracked.ErrorsJson, Json.Options) ?? [];
                    tracked.ErrorsJson = JsonSerializer.Serialize(errors.Concat(planErrors).OrderBy(e => e.Line).ToList(), Json.Options);
                    tracked.Refused += planErrors.Count;
                    await db.SaveChangesAsync(ct);
                    return true;
                }, ct);
            db.ChangeTracker.Clear();
        }
        await db.InTransactionAsync(async () =>
        {
            var tracked = await db.Set<ImportJob>().FirstAsync(j => j.Id == jobId, ct);
            tracked.State = ImportState.Done;
            tracked.FinishedAt = time.GetUtcNow();
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);
    }
}

/// <summary>Runs queued imports: woken when one is queued, and every few seconds for one queued on another node.</summary>
internal sealed class DeviceImportRunner(IServiceScopeFactory scopes, ILogger<DeviceImportRunner> log) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0);

    public void Wake() => _wake.Release();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var imports = scope.ServiceProvider.GetRequiredService<DeviceImports>();
                while (await imports.RunNextAsync(stoppingToken)) { }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "A device import failed; it is retried.");
            }
            try
            {
                await _wake.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
