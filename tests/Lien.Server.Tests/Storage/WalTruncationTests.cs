using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Tests.Storage;

/// <summary>
/// Passive checkpoints copy the WAL into the database but never shrink the file, so a burst of writes left a WAL of its
/// size for good (132 MiB beside a 20 MiB database). A truncating checkpoint brings it back to nothing: every
/// <c>Lien:Sqlite:WalTruncateInterval</c>, or at the next tick once it is over <c>Lien:Sqlite:WalTruncateSize</c>.
/// </summary>
public abstract class WalTruncationTests(LienServer server)
{
    [Fact]
    public async Task Checkpointer_AfterABurstOfWrites_TruncatesTheWal()
    {
        await server.NewLenderAsync(); // the store is up
        var wal = await server.WithDbAsync(db => Task.FromResult(db.Database.GetDbConnection().DataSource + "-wal"));
        var pagesBefore = await PageBytesAsync();

        // About 8 MiB in one transaction: every page of it passes through the WAL.
        await server.WithDbAsync(async db =>
        {
            using var gate = await db.WriteGateAsync();
            return await db.Database.ExecuteSqlRawAsync("""
                CREATE TABLE burst (data BLOB);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO burst SELECT randomblob(4000) FROM n;
                """);
        });
        Assert.True(await PageBytesAsync() - pagesBefore > 7 << 20, "the burst was too small to prove anything");

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (new FileInfo(wal).Length > 64 << 10 && waited.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.True(new FileInfo(wal).Length <= 64 << 10, $"the WAL is still {new FileInfo(wal).Length:N0} bytes");
        Assert.Equal(2000, await server.WithDbAsync(db => db.Database.SqlQueryRaw<int>("SELECT count(*) AS \"Value\" FROM burst").SingleAsync()));
    }

    private Task<long> PageBytesAsync() => server.WithDbAsync(async db =>
        await db.Database.SqlQueryRaw<long>("SELECT page_count * page_size AS \"Value\" FROM pragma_page_count(), pragma_page_size()").SingleAsync());
}

/// <summary>Checkpoints every 100 ms, truncates every 2 s whatever the size (the defaults: 1 s, 10 minutes).</summary>
public sealed class WalTruncationByIntervalTests(WalTruncationByIntervalTests.Server server) : WalTruncationTests(server), IClassFixture<WalTruncationByIntervalTests.Server>
{
    public sealed class Server() : LienServer(Store.Sqlite)
    {
        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
            [new("Lien:Sqlite:CheckpointInterval", "00:00:00.1"), new("Lien:Sqlite:WalTruncateInterval", "00:00:02")];
    }
}

/// <summary>Truncates only a WAL over 1 MiB (the default: 16 MiB); the interval is an hour, so the size is what decides.</summary>
public sealed class WalTruncationBySizeTests(WalTruncationBySizeTests.Server server) : WalTruncationTests(server), IClassFixture<WalTruncationBySizeTests.Server>
{
    public sealed class Server() : LienServer(Store.Sqlite)
    {
        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
            [new("Lien:Sqlite:WalTruncateSize", "1048576"), new("Lien:Sqlite:WalTruncateInterval", "01:00:00")];
    }
}

/// <summary>
/// Under writes that never pause, the log never starts over by itself (a writer finds frames still to copy each time it
/// begins), and a passive checkpoint alone let the WAL grow by everything written: 55 MB a second under the payments
/// bench, until a truncation held every writer for 35–50 ms each second. The checkpointer restarts the log under the
/// writer's turn once it holds more than <c>Lien:Sqlite:WalResetSize</c>, so the file stays near that size with no
/// truncation at all (here the truncation size is a gigabyte and its interval an hour).
/// </summary>
public sealed class WalRestartTests(WalRestartTests.Server server) : IClassFixture<WalRestartTests.Server>
{
    public sealed class Server() : LienServer(Store.Sqlite)
    {
        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
        [
            new("Lien:Sqlite:CheckpointInterval", "00:00:00.05"), new("Lien:Sqlite:WalResetSize", "1048576"),
            new("Lien:Sqlite:WalTruncateSize", "1073741824"), new("Lien:Sqlite:WalTruncateInterval", "01:00:00"),
        ];
    }

    [Fact]
    public async Task Checkpointer_WritesThatNeverPause_RestartsTheLogSoTheWalStaysSmall()
    {
        await server.NewLenderAsync(); // the store is up
        var wal = await server.WithDbAsync(db => Task.FromResult(db.Database.GetDbConnection().DataSource + "-wal"));
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("CREATE TABLE steady (data BLOB);"));

        // Four writers, each unit of work 40 KB, back to back: 192 MB in all, so the writer is never idle for long.
        // Before the restarts the WAL grew by all of it; now by what arrives between two ticks (tens of MB at this pace).
        const int Writers = 4, UnitsEach = 1200;
        long largest = 0;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < UnitsEach; i++)
            {
                await server.WithDbAsync(db => db.InTransactionAsync(() => db.Database.ExecuteSqlRawAsync(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) INSERT INTO steady SELECT randomblob(4000) FROM n;")));
                var size = new FileInfo(wal).Length;
                long seen;
                while (size > (seen = Interlocked.Read(ref largest)) && Interlocked.CompareExchange(ref largest, size, seen) != seen) { }
            }
        })));

        Assert.Equal(Writers * UnitsEach * 10, await server.WithDbAsync(db => db.Database.SqlQueryRaw<int>("SELECT count(*) AS \"Value\" FROM steady").SingleAsync()));
        Assert.True(largest < Writers * UnitsEach * 40_000 / 2, $"the WAL reached {largest:N0} bytes for {Writers * UnitsEach * 40_000:N0} written");
    }
}
