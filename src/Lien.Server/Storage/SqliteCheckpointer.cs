using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Lien.Server.Storage;

/// <summary>
/// Moves the WAL into the database file every second, off the commit path (connections run with
/// <c>wal_autocheckpoint = 0</c>). A passive checkpoint never blocks readers or writers; it copies what it can. The log
/// starts over from the beginning of the file only when a writer finds every frame copied and no reader still on it,
/// which under a steady stream of writes never happens: the WAL then grew by the write rate for good (55 MB a second
/// under the payments bench). So when the log holds more than <c>Lien:Sqlite:WalResetSize</c> (default 4 MiB) after
/// a tick's copy, the tick copies again what arrived meanwhile (still passive, until a pass finds little), then takes the
/// writer's turn, ahead of the units waiting, for a restart (<c>wal_checkpoint(RESTART)</c>): what is left to copy is
/// what arrived in the last few milliseconds, so this node's writers queue only that long. A restart never shrinks the file; a truncation
/// (<c>wal_checkpoint(TRUNCATE)</c>, the same way, under the turn) cuts it to nothing when it is larger than
/// <c>Lien:Sqlite:WalTruncateSize</c> (default 16 MiB) and the log did not need a restart, or when
/// <c>Lien:Sqlite:WalTruncateInterval</c> (default 10 minutes) has passed since the last truncation. Either waits at
/// most <see cref="ReaderWait"/> for readers of an older snapshot; when it cannot finish in that time it is tried again
/// at the next tick.
/// </summary>
internal sealed class SqliteCheckpointer(IServiceScopeFactory scopes, IConfiguration config, ILogger<SqliteCheckpointer> log) : BackgroundService
{
    private static readonly TimeSpan ReaderWait = TimeSpan.FromMilliseconds(50);
    private const int FrameHeader = 24; // each WAL frame is a page and this header

    private TimeSpan Interval => config.GetValue("Lien:Sqlite:CheckpointInterval", TimeSpan.FromSeconds(1));
    private TimeSpan TruncateInterval => config.GetValue("Lien:Sqlite:WalTruncateInterval", TimeSpan.FromMinutes(10));
    private long TruncateSize => config.GetValue("Lien:Sqlite:WalTruncateSize", 16L << 20);
    private long ResetSize => config.GetValue("Lien:Sqlite:WalResetSize", 4L << 20);

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
            long frameSize;
            await using (var setup = connection.CreateCommand())
            {
                // Only a restart or truncation waits on a busy database (a passive checkpoint never does), and not for long.
                setup.CommandText = $"PRAGMA busy_timeout = {(int)ReaderWait.TotalMilliseconds};";
                await setup.ExecuteNonQueryAsync(stoppingToken);
                setup.CommandText = "PRAGMA page_size;";
                frameSize = Convert.ToInt64(await setup.ExecuteScalarAsync(stoppingToken)) + FrameHeader;
            }
            var lastTruncated = Stopwatch.GetTimestamp();
            long restartedAt = -1; // the log's frames when it was last restarted: it starts over at the next write, not before
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var size = WalSize(wal);
                    var (_, frames, _) = await CheckpointAsync(connection, "PASSIVE", stoppingToken);
                    if (frames * frameSize > ResetSize && frames != restartedAt)
                    {
                        await CatchUpAsync(connection, stoppingToken);
                        var restart = await UnderTheTurnAsync(connection, "RESTART", stoppingToken);
                        if (!restart.Busy) restartedAt = restart.Frames;
                        else log.LogDebug("WAL restart waited {Wait} for readers and will be tried again at the next tick.", ReaderWait);
                    }
                    else if (size > TruncateSize || (size != 0 && Stopwatch.GetElapsedTime(lastTruncated) >= TruncateInterval))
                    {
                        if (!(await UnderTheTurnAsync(connection, "TRUNCATE", stoppingToken)).Busy) lastTruncated = Stopwatch.GetTimestamp();
                        else log.LogDebug("WAL truncation waited {Wait} for readers and will be tried again at the next tick.", ReaderWait);
                    }
                }
                catch (SqliteException e) { log.LogWarning(e, "WAL checkpoint failed; trying again at the next tick."); }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    // Before a restart, passive copies again of what arrived while the one before ran, until one finds little to copy (or
    // readers of older snapshots keep it from copying more): under the turn every writer waits while the rest is copied
    // and synced. With a single second pass, and the turn taken behind the units already queued, a restart held the turn
    // 21-25 ms at about 2,800 payments a second, and every payment in flight waited that long: that was the p99. With
    // these passes and the turn taken ahead, 36 of 38 restarts in a run held it under 8 ms (0-7.6 ms; two 12 and 20 ms).
    // Passes stop, too, when one copied no less than the one before: writers then outpace the copy (a WAL restart test
    // with four writers back to back, in a full test run, saw the log grow past half of all it wrote while passes ran),
    // and waiting only lets the log grow.
    private static async Task CatchUpAsync(SqliteConnection connection, CancellationToken ct)
    {
        var copied = (await CheckpointAsync(connection, "PASSIVE", ct)).Copied;
        var last = long.MaxValue;
        for (var pass = 0; pass < MaxCatchUpPasses; pass++)
        {
            var (_, _, now) = await CheckpointAsync(connection, "PASSIVE", ct);
            var thisPass = now - copied;
            if (thisPass < FewFrames || thisPass >= last) return;
            (copied, last) = (now, thisPass);
        }
    }

    private const int MaxCatchUpPasses = 4;
    private const int FewFrames = 128;

    // A checkpoint's row: whether it could not finish (busy), the frames in the log, and how many of them are copied.
    private static async Task<(bool Busy, long Frames, long Copied)> CheckpointAsync(SqliteConnection connection, string mode, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode});";
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetInt32(0) != 0, Math.Max(0, reader.GetInt64(1)), Math.Max(0, reader.GetInt64(2))) : (true, 0, 0);
    }

    // -1 when there is no file to measure (an in-memory database): then only the interval truncates.
    private static long WalSize(FileInfo? wal)
    {
        if (wal is null) return -1;
        wal.Refresh();
        return wal.Exists ? wal.Length : 0;
    }

    // A restart or truncation, with this node's writers queued: busy when readers held the log past the wait.
    private async Task<(bool Busy, long Frames)> UnderTheTurnAsync(SqliteConnection connection, string mode, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        // Ahead of the units waiting: each one let in first would add its pages to what the restart must copy.
        using var gate = await scope.ServiceProvider.GetRequiredService<LienDb>().WriteGateAsync(ct, ahead: true);
        var (busy, frames, _) = await CheckpointAsync(connection, mode, ct);
        return (busy, frames);
    }
}
