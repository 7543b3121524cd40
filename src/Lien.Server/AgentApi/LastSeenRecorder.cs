using System.Collections.Concurrent;
using System.Data.Common;
using Lien.Server.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.AgentApi;

/// <summary>
/// Collects "last seen" from check-ins and writes it in batches every few seconds, so a check-in costs a read and not a
/// write. A crash loses at most one interval of last-seen times, which nothing depends on.
/// </summary>
internal sealed class LastSeenRecorder(IServiceScopeFactory scopes, TimeProvider time, ILogger<LastSeenRecorder> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private ConcurrentDictionary<Guid, DateTimeOffset> _seen = new();

    public void Saw(Guid deviceId, DateTimeOffset at) => _seen[deviceId] = at;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            await FlushAsync(CancellationToken.None);
        }
        await FlushAsync(CancellationToken.None);
    }

    public async Task FlushAsync(CancellationToken ct)
    {
        var batch = Interlocked.Exchange(ref _seen, new ConcurrentDictionary<Guid, DateTimeOffset>());
        if (batch.IsEmpty) return;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            if (db is SqliteLienDb sqlite) await WriteSqliteAsync(sqlite, batch, ct);
            else await WriteAsync(db, batch, ct);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException)
        {
            // Put the batch back (newer sightings win) so the next interval writes it.
            foreach (var (id, at) in batch) _seen.AddOrUpdate(id, at, (_, newer) => newer > at ? newer : at);
            log.LogWarning(e, "Could not record last-seen times for {Count} devices; retrying with the next batch.", batch.Count);
        }
    }

    // PostgreSQL's readers keep their caches whatever commits, so its statements stay small.
    private const int PostgresRowsPerStatement = 1000;

    private static async Task WriteAsync(LienDb db, ConcurrentDictionary<Guid, DateTimeOffset> batch, CancellationToken ct)
    {
        foreach (var chunk in batch.OrderBy(kv => kv.Key).Chunk(PostgresRowsPerStatement))
        {
            var ids = chunk.Select(kv => kv.Key).ToArray();
            var ats = chunk.Select(kv => WholeSeconds(kv.Value)).ToArray();
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO "DeviceSightings" ("DeviceId", "LastSeenAt") SELECT * FROM unnest({ids}, {ats})
                ON CONFLICT ("DeviceId") DO UPDATE SET "LastSeenAt" = excluded."LastSeenAt"
                """, ct);
        }
    }

    // Under load a batch is tens of thousands of rows. On SQLite they go through one prepared statement, in key order,
    // in transactions that hold the write lock only while nobody else wants it: at least MinRowsPerTransaction rows, then
    // on until a unit of work or another writer waits (so a payment behind a flush waits milliseconds, not the whole flush)
    // or MaxRowsPerTransaction. Readers never wait in WAL mode, but every commit makes each reading connection drop its
    // page cache and its memory map of the file at its next read, and the check-in readers then fault the pages in again:
    // with 1,000-row transactions, a flush at 1,000,000 devices was 170 commits every 5 s and a tenth of the server's CPU.
    // This connection skips the fsync at commit, since losing last-seen times is harmless.
    internal const int MinRowsPerTransaction = 1000;
    internal const int MaxRowsPerTransaction = 250_000; // a whole flush at 1,000,000 devices checking in flat out (~170,000 rows)

    private async Task WriteSqliteAsync(SqliteLienDb db, ConcurrentDictionary<Guid, DateTimeOffset> batch, CancellationToken ct)
    {
        var writer = SqliteWriter.Of(db);
        var commits = new List<int>();
        using var connection = new SqliteConnection(SqliteDirect.ConnectionString(db));
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; PRAGMA mmap_size = 2147418112; PRAGMA cache_size = -65536;";
            pragma.ExecuteNonQuery();
        }
        using var update = connection.CreateCommand();
        update.CommandText = """
            INSERT INTO "DeviceSightings" ("DeviceId", "LastSeenAt") VALUES ($id, $at)
            ON CONFLICT ("DeviceId") DO UPDATE SET "LastSeenAt" = excluded."LastSeenAt"
            """;
        var id = update.Parameters.Add("$id", SqliteType.Text);
        var at = update.Parameters.Add("$at", SqliteType.Integer);
        var rows = batch.OrderBy(kv => kv.Key).ToArray();
        for (var next = 0; next < rows.Length;)
        {
            using var gate = await db.WriteGateAsync(ct);
            using var tx = connection.BeginTransaction();
            update.Transaction = tx;
            var first = next;
            do
            {
                var (device, seen) = rows[next++];
                id.Value = device;
                at.Value = SqliteDirect.Stored(WholeSeconds(seen));
                update.ExecuteNonQuery();
            }
            while (next < rows.Length && (next - first < MinRowsPerTransaction || (next - first < MaxRowsPerTransaction && !writer.Contended)));
            tx.Commit();
            commits.Add(next - first);
        }
        LastFlushTransactions = commits;
    }

    /// <summary>The rows of each SQLite transaction the last flush committed, in order.</summary>
    internal IReadOnlyList<int> LastFlushTransactions { get; private set; } = [];

    private static DateTimeOffset WholeSeconds(DateTimeOffset at) => DateTimeOffset.FromUnixTimeSeconds(at.ToUnixTimeSeconds());
}
