using System.Text;
using System.Text.Json;
using Lien.Server.Api;
using Lien.Server.Devices;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Console;

/// <summary>
/// The console's bulk import: the file is read by <see cref="DeviceCsv"/> when it is uploaded (a file the API's import
/// would refuse as a whole is refused here the same way), kept with a queued <see cref="ImportJob"/>, and registered by
/// <see cref="DeviceRegistry"/> in slices of <see cref="Slice"/> rows, one transaction each, the job's counters moving
/// with every slice — the same rules as <c>POST /v1/devices/import</c>, row for row.
/// </summary>
internal sealed class DeviceImports(LienDb db, DeviceRegistry registry, TimeProvider time)
{
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

    /// <summary>Runs the oldest queued job to its end; false when none was waiting.</summary>
    public async Task<bool> RunNextAsync(CancellationToken ct)
    {
        var id = await db.Set<ImportJob>().AsNoTracking().Where(j => j.State != ImportState.Done).OrderBy(j => j.CreatedAt).Select(j => (Guid?)j.Id).FirstOrDefaultAsync(ct);
        if (id is null) return false;
        await RunAsync(id.Value, ct);
        return true;
    }

    public async Task RunAsync(Guid jobId, CancellationToken ct)
    {
        var job = await db.Set<ImportJob>().AsNoTracking().FirstAsync(j => j.Id == jobId, ct);
        var (rows, _) = await DeviceCsv.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(job.Csv)), ct);
        // A job stopped half way (the server restarted) goes on after the rows it finished.
        foreach (var slice in rows.Skip(job.Processed).Chunk(Slice))
        {
            await db.InTransactionAsync(async () =>
            {
                var lender = await db.Lenders.FirstAsync(l => l.Id == job.LenderId, ct);
                var tracked = await db.Set<ImportJob>().FirstAsync(j => j.Id == jobId, ct);
                var outcomes = await registry.RegisterAsync(lender, slice, job.CreatedBy, ct);
                var errors = JsonSerializer.Deserialize<List<ImportRowError>>(tracked.ErrorsJson, Json.Options) ?? [];
                var byLine = slice.ToDictionary(r => r.Line, r => r.Row.Imei);
                errors.AddRange(outcomes.Where(o => o.Refused is not null).Select(o => new ImportRowError(o.Line, byLine.GetValueOrDefault(o.Line), o.Refused!)));
                tracked.ErrorsJson = JsonSerializer.Serialize(errors, Json.Options);
                tracked.State = ImportState.Running;
                tracked.Processed += slice.Length;
                tracked.Registered += outcomes.Count(o => o.Device is not null);
                tracked.Refused += outcomes.Count(o => o.Refused is not null);
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
