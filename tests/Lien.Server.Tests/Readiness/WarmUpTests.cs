using System.Data.Common;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Lien.Server.Readiness;
using Npgsql;

namespace Lien.Server.Tests.Readiness;

/// <summary>
/// The warm-up (<c>Lien:WarmUp</c>, on by default) as an operator meets it: the real server in a process of its own runs its
/// hot paths on a throwaway database before it listens, and leaves nothing behind in its own database or anywhere else.
/// </summary>
public sealed class WarmUpTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "lien-warm-up-test-" + Guid.NewGuid().ToString("N"));
    private readonly string _tempDir = Path.Combine(Path.GetTempPath(), "lien-warm-up-tmp-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Start_Default_WarmsUpBeforeListeningAndWritesNothingAnyLenderSees()
    {
        var log = await StartUntilReadyAsync([]);
        Assert.Matches(@"Warmed up in [0-9.]+ s on a throwaway SQLite database: [0-9]+ payments streamed, acknowledged and checked in", log);

        // The server's own database holds no trace of the warm-up's lender, phones, payments or audit events.
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(_dataDir, "lien.db")};Pooling=False"))
        {
            await db.OpenAsync(TestContext.Current.CancellationToken);
            await AssertNoRowsAsync(db);
        }
        // And its throwaway folder is gone (the runtime's own diagnostic pipes may stay in the temporary folder).
        Assert.Empty(Directory.GetDirectories(_tempDir, "lien-warm-up-*"));
    }

    [Fact]
    public async Task Start_OnPostgres_WarmsUpOnAThrowawayPostgresDatabaseOfItsOwnAndDropsIt()
    {
        await using var fresh = await ServerProcesses.CreateAsync(); // a fresh database, dropped at the end; skips without PostgreSQL
        var log = await StartUntilReadyAsync(new() { ["Database__Provider"] = "postgres", ["ConnectionStrings__Lien"] = fresh.Connection });
        Assert.Matches(@"Warmed up in [0-9.]+ s on a throwaway PostgreSQL database: [0-9]+ payments streamed, acknowledged and checked in", log);
        Assert.DoesNotContain("Could not drop", log);

        // Dropped before the server listened: no warm-up database is left on the PostgreSQL server.
        await using var admin = new NpgsqlConnection(LienServer.PostgresAdmin);
        await admin.OpenAsync(TestContext.Current.CancellationToken);
        await using (var left = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname LIKE 'lien\\_warm\\_up\\_%'", admin))
            Assert.Equal(0L, (long)(await left.ExecuteScalarAsync(TestContext.Current.CancellationToken))!);
        NpgsqlConnection.ClearAllPools();
        await using var db = new NpgsqlConnection(fresh.Connection);
        await db.OpenAsync(TestContext.Current.CancellationToken);
        await AssertNoRowsAsync(db);
    }

    [Fact]
    public async Task Start_OnPostgresAsARoleThatMayNotCreateDatabases_WarmsUpOnSqliteAndSaysWhy()
    {
        Assert.SkipUnless(LienServer.PostgresAdmin is not null, $"PostgreSQL tests need {LienServer.PostgresVariable}.");
        var name = "lien_test_" + Guid.NewGuid().ToString("N");
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await LienServer.PostgresAdminAsync($"CREATE ROLE \"{name}\" LOGIN NOCREATEDB PASSWORD '{password}'");
        await LienServer.PostgresAdminAsync($"CREATE DATABASE \"{name}\" OWNER \"{name}\"");
        var connection = new NpgsqlConnectionStringBuilder(LienServer.PostgresAdmin) { Database = name, Username = name, Password = password }.ConnectionString;
        try
        {
            var log = await StartUntilReadyAsync(new() { ["Database__Provider"] = "postgres", ["ConnectionStrings__Lien"] = connection });
            Assert.Contains("The warm-up runs on SQLite: PostgreSQL did not create a throwaway database for it (permission denied to create database)", log);
            Assert.Matches(@"Warmed up in [0-9.]+ s on a throwaway SQLite database: [0-9]+ payments streamed", log);
            Assert.Empty(Directory.GetDirectories(_tempDir, "lien-warm-up-*"));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await LienServer.PostgresAdminAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            await LienServer.PostgresAdminAsync($"DROP ROLE IF EXISTS \"{name}\"");
        }
    }

    [Fact]
    public void IsStale_OnlyAWarmUpsNameOlderThanTenMinutes()
    {
        var now = DateTimeOffset.Parse("2026-12-02T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        string Named(string prefix, TimeSpan ago) => prefix + Guid.CreateVersion7(now - ago).ToString("N");
        Assert.True(WarmUp.IsStale(Named("lien-warm-up-", TimeSpan.FromMinutes(11)), "lien-warm-up-", now));
        Assert.True(WarmUp.IsStale(Named("lien_warm_up_", TimeSpan.FromDays(3)), "lien_warm_up_", now));
        Assert.False(WarmUp.IsStale(Named("lien-warm-up-", TimeSpan.FromMinutes(9)), "lien-warm-up-", now)); // may be a live warm-up's
        Assert.False(WarmUp.IsStale(Named("lien-warm-up-", -TimeSpan.FromMinutes(30)), "lien-warm-up-", now)); // a clock behind another's
        Assert.False(WarmUp.IsStale("lien-warm-up-" + Guid.NewGuid().ToString("N"), "lien-warm-up-", now)); // no time in it: never
        Assert.False(WarmUp.IsStale(Named("lien-warm-up-test-", TimeSpan.FromDays(1)), "lien-warm-up-", now)); // another shape
        Assert.False(WarmUp.IsStale(Named("lien_warm_up_", TimeSpan.FromDays(1)), "lien-warm-up-", now));
        Assert.False(WarmUp.IsStale("lien-warm-up-", "lien-warm-up-", now));
        Assert.False(WarmUp.IsStale(Named("lien-warm-up-", TimeSpan.FromDays(1)) + "x", "lien-warm-up-", now));
    }

    [Fact]
    public async Task Start_AfterAWarmUpThatWasKilled_RemovesItsFolderAndLeavesANewerOne()
    {
        Directory.CreateDirectory(_tempDir);
        var killed = Directory.CreateDirectory(Path.Combine(_tempDir, "lien-warm-up-" + Guid.CreateVersion7(TimeProvider.System.GetUtcNow().AddHours(-1)).ToString("N")));
        File.WriteAllText(Path.Combine(killed.FullName, "lien.db"), "left");
        var live = Directory.CreateDirectory(Path.Combine(_tempDir, "lien-warm-up-" + Guid.CreateVersion7(TimeProvider.System.GetUtcNow()).ToString("N")));
        var old = Directory.CreateDirectory(Path.Combine(_tempDir, "lien-warm-up-" + Guid.NewGuid().ToString("N"))); // before names had a time

        var log = await StartUntilReadyAsync([]);
        Assert.Contains($"Removed {killed.FullName}, left by a warm-up that was stopped before it could clean up", log);
        Assert.False(Directory.Exists(killed.FullName));
        Assert.True(Directory.Exists(live.FullName));
        Assert.True(Directory.Exists(old.FullName));
    }

    [Fact]
    public async Task Start_OnPostgresAfterAWarmUpThatWasKilled_DropsItsDatabaseAndLeavesANewerOne()
    {
        await using var fresh = await ServerProcesses.CreateAsync(); // skips without PostgreSQL
        var killed = "lien_warm_up_" + Guid.CreateVersion7(TimeProvider.System.GetUtcNow().AddHours(-1)).ToString("N");
        var live = "lien_warm_up_" + Guid.CreateVersion7(TimeProvider.System.GetUtcNow()).ToString("N");
        await LienServer.PostgresAdminAsync($"CREATE DATABASE \"{killed}\"");
        await LienServer.PostgresAdminAsync($"CREATE DATABASE \"{live}\"");
        try
        {
            var log = await StartUntilReadyAsync(new() { ["Database__Provider"] = "postgres", ["ConnectionStrings__Lien"] = fresh.Connection });
            Assert.Contains($"Dropped the database {killed}, left by a warm-up that was stopped before it could clean up", log);
            await using var admin = new NpgsqlConnection(LienServer.PostgresAdmin);
            await admin.OpenAsync(TestContext.Current.CancellationToken);
            await using var left = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname LIKE 'lien\\_warm\\_up\\_%'", admin);
            await using var reader = await left.ExecuteReaderAsync(TestContext.Current.CancellationToken);
            List<string> names = [];
            while (await reader.ReadAsync(TestContext.Current.CancellationToken)) names.Add(reader.GetString(0));
            Assert.Equal([live], names); // the killed one's gone, the warm-up's own dropped, the newer one (a live warm-up's) kept
        }
        finally
        {
            await LienServer.PostgresAdminAsync($"DROP DATABASE IF EXISTS \"{killed}\"");
            await LienServer.PostgresAdminAsync($"DROP DATABASE IF EXISTS \"{live}\"");
        }
    }

    // Starts the real server (its data folder and temporary folder this test's), waits for /readyz, checks that the warm-up
    // ended before it listened, stops it, and answers what it logged.
    private async Task<string> StartUntilReadyAsync(Dictionary<string, string> settings)
    {
        Directory.CreateDirectory(_tempDir);
        var port = ServerProcesses.FreePort();
        var output = new StringBuilder();
        using var process = ServerProcess.Start(["--urls", $"http://127.0.0.1:{port}"],
            new Dictionary<string, string>(settings) { ["Lien__DataDir"] = _dataDir, ["TMPDIR"] = _tempDir + "/" });
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var ready = await ReadyAsync(client, process);
            Assert.Equal("ready", ready);
            var log = await LoggedAsync(output, "Now listening on");
            var warmedUp = log.IndexOf("Warmed up in", StringComparison.Ordinal);
            Assert.True(warmedUp >= 0, "no warm-up was logged:\n" + log);
            // The operator is told, before the wait, what the start is waiting for and how to skip it.
            var warming = log.IndexOf("Warming up before listening", StringComparison.Ordinal);
            Assert.True(warming >= 0 && warming < warmedUp, "the warm-up did not say it was starting:\n" + log);
            Assert.Contains("Lien:WarmUp=false skips this", log);
            Assert.True(warmedUp < log.IndexOf("Now listening on", StringComparison.Ordinal), "the server listened before its warm-up ended:\n" + log);
            return log;
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    private static async Task AssertNoRowsAsync(DbConnection db)
    {
        foreach (var table in new[] { "Lenders", "ApiKeys", "Devices", "Plans", "Payments", "Leases", "AuditEvents", "DeviceSightings" })
        {
            await using var count = db.CreateCommand();
            count.CommandText = $"SELECT COUNT(*) FROM \"{table}\"";
            Assert.True(0L == Convert.ToInt64(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken)), $"{table} has rows after the warm-up");
        }
    }

    [Theory]
    [InlineData("maybe")]
    [InlineData("1")]
    public async Task Start_WarmUpNeitherTrueNorFalse_ExitsWithOneLineNamingIt(string value)
    {
        var (code, _, stderr) = await ServerProcess.RunAsync(["--urls", "http://127.0.0.1:0"],
            new Dictionary<string, string> { ["Lien__DataDir"] = _dataDir, ["Lien__WarmUp"] = value });
        Assert.Equal(1, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains($"Lien:WarmUp '{value}' must be true or false", line);
    }

    private static async Task<string> ReadyAsync(HttpClient client, Process process)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            Assert.False(process.HasExited, "the server exited");
            try
            {
                using var answer = await client.GetAsync("/readyz", TestContext.Current.CancellationToken);
                if (answer.StatusCode == HttpStatusCode.OK) return await answer.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            }
            catch (HttpRequestException)
            {
                // not listening yet: warming up
            }
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        throw new TimeoutException("the server never answered /readyz");
    }

    // What the server has printed, once it holds `text` (its log reaches the pipe a moment after it happens).
    private static async Task<string> LoggedAsync(StringBuilder output, string text)
    {
        for (var i = 0; i < 100; i++)
        {
            lock (output)
                if (output.ToString().Contains(text, StringComparison.Ordinal)) return output.ToString();
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        lock (output) return output.ToString();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var dir in new[] { _dataDir, _tempDir })
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
    }
}
