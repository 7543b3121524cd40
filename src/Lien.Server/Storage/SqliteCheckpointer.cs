using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Lien.Server.Storage;

/// <summary>
/// Moves the WAL into the database file every second, off the commit path (connections run with
/// <c>wal_autocheckpoint = 0</c>). A passive checkpoint never blocks readers or writers; it copies what it can, but never
/// shrinks the file, so a burst of writes would leave a WAL of its size for good. So the tick truncates instead
/// when the WAL is larger than <c>Lien:Sqlite:WalTruncateSize</c> (default 16 MiB) or <c>Lien:Sqlite:WalTruncateInterval</c>
/// (default 10 minutes) has passed since the last truncation. A truncation first copies what it can passively (no gate),
/// then holds the writer gate for the rest and the reset, so this node's writers queue for it rather than poll, and waits
/// at most <see cref="TruncateWait"/> for readers of an older snapshot; when it cannot finish in that time it is tried
/// again at the next tick.
/// </summary>
internal sealed class SqliteCheckpointer(IServiceScopeFactory scopes, IConfiguration config, ILogger<SqliteCheckpointer> log) : BackgroundService
{
    private static readonly TimeSpan TruncateWait = TimeSpan.FromMilliseconds(50);

    private TimeSpan Interval => config.GetValue("Lien:Sqlite:CheckpointInterval", TimeSpan.FromSeconds(1));
    private TimeSpan TruncateInterval => config.GetValue("Lien:Sqlite:WalTruncateInterval", TimeSpan.FromMinutes(10));
    private long TruncateSize => config.GetValue("Lien:Sqlite:WalTruncateSize", 16L << 20);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string connectionString;
        await using (var scope = scopes.CreateAsyncScope())
        {
            if (scope.ServiceProvider.GetRequiredService<LienDb>() is not SqliteLienDb db) return;
            connectionString = Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.GetConnectionString(db.Database)!;
        }
        var wal = DataFolder.DatabaseFile(connectionString) is { } file ? new FileInfo(file + "-wal") : null;
        // Real time on purpose: this is housekeeping of a file, not a rule of the product.
        using var timer = new PeriodicTimer(Interval);
        await using var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(stoppingToken);
            await using (var wait = connection.CreateCommand())
            {
                // Only a truncation waits on a busy database (a passive checkpoint never does), and not for long.
                wait.CommandText = $"PRAGMA busy_timeout = {(int)TruncateWait.TotalMilliseconds};";
                await wait.ExecuteNonQueryAsync(stoppingToken);
            }
            await using var passive = connection.CreateCommand();
            passive.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
            var lastTruncated = Stopwatch.GetTimestamp();
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var size = WalSize(wal);
                    if (size > TruncateSize || (size != 0 && Stopwatch.GetElapsedTime(lastTruncated) >= TruncateInterval))
                    {
                        // The bulk is copied first without the gate, so writers wait only for the last frames and the reset.
                        await passive.ExecuteNonQueryAsync(stoppingToken);
                        if (await TruncateAsync(connection, stoppingToken)) lastTruncated = Stopwatch.GetTimestamp();
                        else log.LogDebug("WAL truncation waited {Wait} for readers and will be tried again at the next tick.", TruncateWait);
                    }
                    else await passive.ExecuteNonQueryAsync(stoppingToken);
                }
                catch (SqliteException e) { log.LogWarning(e, "WAL checkpoint failed; trying again at the next tick."); }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    // -1 when there is no file to measure (an in-memory database): then only the interval truncates.
    private static long WalSize(FileInfo? wal)
    {
        if (wal is null) return -1;
        wal.Refresh();
        return wal.Exists ? wal.Length : 0;
    }

    // Copies the whole WAL into the database and truncates the file to nothing; false when readers held it past the wait.
    private async Task<bool> TruncateAsync(SqliteConnection connection, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        using var gate = await scope.ServiceProvider.GetRequiredService<LienDb>().WriteGateAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) && reader.GetInt32(0) == 0; // the first column is 1 when it could not finish
    }
}
