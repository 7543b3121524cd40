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
