// The scratch tables are named by the tests themselves (a fixed prefix and a GUID): nothing user-given reaches SQL.
#pragma warning disable EF1002, EF1003

using Lien.Server.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Lien.Server.Tests.Storage;

/// <summary>
/// Group commit on SQLite: units of work queued for the writer share a transaction, each in a savepoint of its own, and
/// each is answered only once the transaction holding it has committed.
/// </summary>
public sealed class SqliteWriterTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task ConcurrentUnits_ShareCommits_EachVisibleToOtherConnectionsWhenAnswered()
    {
        var table = await ScratchTableAsync();
        var writer = server.Services.GetRequiredService<SqliteWriter>();
        var commitsBefore = writer.Commits;
        var notYetVisible = 0;
        // The writer held until units queue: a unit that finds the writer free runs and commits at once on its caller's
        // thread, so on a busy machine one worker could run every unit alone before the others started (a CI run did).
        var held = await server.WithDbAsync(db => db.WriteGateAsync(Ct));
        var inserting = Parallel.ForEachAsync(Enumerable.Range(1, 256), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            await server.WithDbAsync(db => db.InTransactionAsync(() => db.Database.ExecuteSqlRawAsync("INSERT INTO " + table + " (k) VALUES ({0})", [i], Ct), Ct));
            // Read on a connection of its own, outside the writer: what was answered has committed.
            if (await CountOutsideAsync(table, $"k = {i}") != 1) Interlocked.Increment(ref notYetVisible);
        });
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); writer.Waiting < 8 && waited.Elapsed < TimeSpan.FromSeconds(30);) await Task.Delay(5);
        held.Dispose();
        await inserting;
        Assert.Equal(0, notYetVisible);
        Assert.Equal(256, await CountOutsideAsync(table, "1 = 1"));
        var commits = writer.Commits - commitsBefore;
        Assert.True(commits < 256, $"{commits} commits for 256 units queued 32 at a time: no two shared a transaction");
    }

    [Fact]
    public async Task WriterConnection_KeepsItsTempStoreInMemory_OthersTheDefault()
    {
        // The writer's savepoints journal in memory (temp_store = MEMORY): its connection's setting, no other's, also once the
        // writer's connection was closed and opened again.
        static async Task<long> TempStoreAsync(LienDb db)
        {
            using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "PRAGMA temp_store;";
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            return (long)(await command.ExecuteScalarAsync(Ct))!;
        }
        Task<long> OtherAsync() => server.WithDbAsync(async db =>
        {
            await db.Database.OpenConnectionAsync(Ct);
            try
            {
                return await TempStoreAsync(db);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        });
        Assert.Equal(2, await server.WithDbAsync(db => db.InTransactionAsync(() => TempStoreAsync(db), Ct)));
        Assert.Equal(0, await OtherAsync());
        await server.Services.GetRequiredService<SqliteWriter>().CloseAsync(Ct);
        Assert.Equal(0, await OtherAsync());
        Assert.Equal(2, await server.WithDbAsync(db => db.InTransactionAsync(() => TempStoreAsync(db), Ct)));
    }

    [Fact]
    public async Task PaymentAndItsAck_NoWriteTheWriterKeepsOpensATemporaryBTree()
    {
        // SQLite holds the rows of an UPDATE … RETURNING (as of an IN (subquery) or a DISTINCT) in a temporary b-tree with
        // a pager and page cache of its own, opened and freed at every run: on the one writer's thread, the ack's RETURNING
        // was two pager resets a payment under the payments bench. The writes of a payment and of its ack open none.
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(1));
        var enrolled = await server.Client().EnrollAsync(device.Str("imei"));
        await server.Client().AckAsync(enrolled.DeviceToken, enrolled.Seq);
        var paid = await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(System.Net.HttpStatusCode.Created);
        await server.Client().AckAsync(enrolled.DeviceToken, paid.Long("leaseSeq"));
        Assert.True((await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).GetProperty("applied").GetBoolean());

        var writes = server.Services.GetRequiredService<SqliteWriter>().KeptTexts
            .Where(sql => sql.TrimStart() is var s && (s.StartsWith("INSERT", StringComparison.OrdinalIgnoreCase) || s.StartsWith("UPDATE", StringComparison.OrdinalIgnoreCase)
                                                      || s.StartsWith("DELETE", StringComparison.OrdinalIgnoreCase)))
            .ToList();
        Assert.Contains(writes, sql => sql.Contains("\"AppliedAt\"", StringComparison.Ordinal)); // the ack's own write is among them
        Assert.Contains(writes, sql => sql.Contains("INSERT INTO \"Payments\"", StringComparison.Ordinal));
        var opening = await server.WithDbAsync(async db =>
        {
            await using var connection = new SqliteConnection(db.Database.GetConnectionString());
            await connection.OpenAsync(Ct);
            return writes.Where(sql => Opcodes(connection, sql).Contains("OpenEphemeral")).ToList();
        });
        Assert.True(opening.Count == 0, "these open a temporary b-tree at every run:\n" + string.Join("\n", opening));
    }

    // The opcodes SQLite compiles each statement of sql to (EXPLAIN, prepared on the raw handle: parameters need no values;
    // a text of several statements, as EF's saves send, is explained statement by statement).
    private static List<string> Opcodes(SqliteConnection connection, string sql)
    {
        var opcodes = new List<string>();
        for (var rest = sql.Trim(); rest.Length > 0;)
        {
            var rc = SQLitePCL.raw.sqlite3_prepare_v2(connection.Handle, "EXPLAIN " + rest, out var statement, out var tail);
            using (statement)
            {
                Assert.True(rc == SQLitePCL.raw.SQLITE_OK, $"EXPLAIN {rest}: {SQLitePCL.raw.sqlite3_errmsg(connection.Handle).utf8_to_string()}");
                while (SQLitePCL.raw.sqlite3_step(statement) == SQLitePCL.raw.SQLITE_ROW) opcodes.Add(SQLitePCL.raw.sqlite3_column_text(statement, 1).utf8_to_string());
            }
            rest = (tail ?? "").Trim();
        }
        return opcodes;
    }

    [Fact]
    public async Task FailingUnit_AmongOthersInItsTransaction_IsRolledBackAloneAndTheOthersKept()
    {
        var table = await ScratchTableAsync();
        var outcomes = await Task.WhenAll(Enumerable.Range(1, 40).Select(i => server.WithDbAsync(async db =>
        {
            try
            {
                return await db.InTransactionAsync(async () =>
                {
                    await db.Database.ExecuteSqlRawAsync("INSERT INTO " + table + " (k) VALUES ({0})", [i], Ct);
                    if (i % 7 == 0) throw new InvalidOperationException($"unit {i} fails after its insert");
                    return "kept";
                }, Ct);
            }
            catch (InvalidOperationException)
            {
                return "failed";
            }
        })));
        Assert.Equal(5, outcomes.Count(o => o == "failed"));
        Assert.Equal(35, await CountOutsideAsync(table, "1 = 1"));
        Assert.Equal(0, await CountOutsideAsync(table, "k % 7 = 0"));
    }

    [Fact]
    public async Task ConflictingUnit_RolledBackToItsSavepointAndRedone_SeesTheRowThatWon()
    {
        var table = await ScratchTableAsync();
        await server.WithDbAsync(db => db.InTransactionAsync(() => db.Database.ExecuteSqlRawAsync("INSERT INTO " + table + " (k) VALUES (1)", Ct), Ct));
        var attempts = 0;
        var answer = await server.WithDbAsync(db => db.InTransactionAsync(async () =>
        {
            attempts++;
            if (db.Redoing) return await db.Database.SqlQueryRaw<int>("SELECT count(*) AS \"Value\" FROM " + table + " WHERE k = 1").SingleAsync(Ct);
            await db.Database.ExecuteSqlRawAsync("INSERT INTO " + table + " (k) VALUES (2)", Ct); // rolled back with the unit's attempt
            await db.Database.ExecuteSqlRawAsync("INSERT INTO " + table + " (k) VALUES (1)", Ct); // the unique key: a conflict
            return -1;
        }, Ct));
        Assert.Equal((1, 2), (answer, attempts));
        Assert.Equal(0, await CountOutsideAsync(table, "k = 2"));
    }

    [Fact]
    public async Task UnitThatFails_OnTheTurnThread_ItsCallerHandlesTheFailureOffThatThread()
    {
        var writer = server.Services.GetRequiredService<SqliteWriter>();
        bool? workOnTurnThread = null, failureOnTurnThread = null;
        Task failing;
        using (await writer.EnterAsync(Ct))
        {
            // Queued behind the held file: when it is let go, the turn thread runs this unit.
            failing = server.WithDbAsync(async db =>
            {
                try
                {
                    await db.InTransactionAsync<int>(() =>
                    {
                        workOnTurnThread = WriterTurns.OnTurnThread;
                        throw new InvalidOperationException("refused");
                    }, Ct);
                }
                catch (InvalidOperationException)
                {
                    failureOnTurnThread = WriterTurns.OnTurnThread;
                }
                return 0;
            });
        }
        await failing;
        Assert.True(workOnTurnThread);
        Assert.False(failureOnTurnThread);
    }

    [Fact]
    public async Task KeptStatements_OneTextRunManyTimes_PreparedOnceAndEachRunWithItsOwnValues()
    {
        var table = await ScratchTableAsync();
        var writer = server.Services.GetRequiredService<SqliteWriter>();
        Task InsertAsync(int k) => server.WithDbAsync(db =>
            db.InTransactionAsync(() => db.Database.ExecuteSqlRawAsync("INSERT INTO " + table + " (k) VALUES ({0})", [k], Ct), Ct));
        for (var k = 1; k <= 5; k++) await InsertAsync(k);
        var kept = writer.KeptStatements;
        Assert.True(kept > 0, "the writer keeps no statement");
        for (var k = 6; k <= 60; k++) await InsertAsync(k);
        Assert.Equal(kept, writer.KeptStatements); // the same text again: no new statement
        Assert.Equal(60, await CountOutsideAsync(table, "k BETWEEN 1 AND 60")); // each run bound its own value

        // A run that fails (the unique key) is prepared afresh; the text runs again with the next value.
        await Assert.ThrowsAnyAsync<Exception>(() => server.WithDbAsync(db => db.InTransactionAsync<int>(async () =>
        {
            await db.Database.ExecuteSqlRawAsync("INSERT INTO " + table + " (k) VALUES ({0})", [7], Ct);
            throw new InvalidOperationException("unreachable: 7 is taken");
        }, Ct)));
        await InsertAsync(61);
        Assert.Equal(61, await CountOutsideAsync(table, "1 = 1"));
    }

    [Fact]
    public async Task KeptStatement_ReadAgainWhileItsReaderIsOpen_RunsUnpreparedWithTheSameAnswer()
    {
        var table = await ScratchTableAsync(rows: 3);
        var pairs = await server.WithDbAsync(db => db.InTransactionAsync(async () =>
        {
            var sql = "SELECT k AS \"Value\" FROM " + table + " WHERE k >= {0} ORDER BY k";
            var seen = new List<(int Outer, int Inner)>();
            await foreach (var outer in db.Database.SqlQueryRaw<int>(sql, 2).AsAsyncEnumerable().WithCancellation(Ct))
                foreach (var inner in await db.Database.SqlQueryRaw<int>(sql, 3).ToListAsync(Ct)) // the same text, its reader still open
                    seen.Add((outer, inner));
            return seen;
        }, Ct));
        Assert.Equal([(2, 3), (3, 3)], pairs);
    }

    [Fact]
    public async Task KeptStatements_FullWhileAQueryIsBeingRead_TheQueryReadsOnToItsEnd()
    {
        var table = await ScratchTableAsync(rows: 3);
        var read = await server.WithDbAsync(db => db.InTransactionAsync(async () =>
        {
            var seen = new List<int>();
            await foreach (var k in db.Database.SqlQueryRaw<int>("SELECT k AS \"Value\" FROM " + table + " ORDER BY k").AsAsyncEnumerable().WithCancellation(Ct))
            {
                seen.Add(k);
                // More new texts than the writer keeps, while the outer query's reader is open: the cache fills and is let go.
                for (var i = 0; i < SqliteStatements.Capacity + 10; i++)
                    await db.Database.SqlQueryRaw<int>("SELECT " + (k * 1000 + i) + " AS \"Value\"").ToListAsync(Ct);
            }
            return seen;
        }, Ct));
        Assert.Equal([1, 2, 3], read);
    }

    [Fact]
    public async Task Metrics_TheTurnsHeld_EachWriteWaitForIt_AndTheUnitsEachCommitHeld()
    {
        var table = await ScratchTableAsync();
        var writer = server.Services.GetRequiredService<SqliteWriter>();
        var meters = server.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        var busy = new System.Collections.Concurrent.ConcurrentQueue<double>();
        var waits = new System.Collections.Concurrent.ConcurrentQueue<double>();
        var batches = new System.Collections.Concurrent.ConcurrentQueue<int>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        // This server's meters only: other hosts of the test run publish the same names.
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Name.StartsWith("lien.sqlite.writer.", StringComparison.Ordinal))
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
            (instrument.Name == "lien.sqlite.writer.busy_time" ? busy : waits).Enqueue(value));
        listener.SetMeasurementEventCallback<int>((_, value, _, _) => batches.Enqueue(value));
        listener.Start();

        // Eight units queue behind a writer of its own, then run: each waited, and they share commits.
        var held = await server.WithDbAsync(db => db.WriteGateAsync(Ct));
        var inserting = Parallel.ForEachAsync(Enumerable.Range(1, 8), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            await server.WithDbAsync(db => db.InTransactionAsync(() => db.Database.ExecuteSqlRawAsync("INSERT INTO " + table + " (k) VALUES ({0})", [i], Ct), Ct)));
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); writer.Waiting < 8 && waited.Elapsed < TimeSpan.FromSeconds(30);) await Task.Delay(5);
        held.Dispose();
        await inserting;
        listener.Dispose();

        Assert.True(waits.Count(w => w > 0) >= 8, $"waits: {string.Join(", ", waits)}");
        Assert.All(waits, w => Assert.True(w >= 0));
        Assert.True(busy.Count >= 9, $"{busy.Count} turns held: the own writer's and the eight units' at least");
        Assert.All(busy, b => Assert.True(b >= 0));
        Assert.True(batches.Sum() >= 8, $"commits held {string.Join(", ", batches)} units");
        Assert.Contains(batches, b => b > 1);
        Assert.Equal(8, await CountOutsideAsync(table, "1 = 1"));
    }

    // A scratch table with k = 1 … rows in it, each written by a unit of work of its own.
    private async Task<string> ScratchTableAsync(int rows = 0)
    {
        var table = "scratch_" + Guid.NewGuid().ToString("N")[..12];
        await server.WithDbAsync(async db =>
        {
            using var gate = await db.WriteGateAsync(Ct);
            return await db.Database.ExecuteSqlRawAsync("CREATE TABLE " + table + " (k INTEGER PRIMARY KEY)", Ct);
        });
        for (var k = 1; k <= rows; k++)
        {
            var value = k;
            await server.WithDbAsync(db => db.InTransactionAsync(() => db.Database.ExecuteSqlRawAsync("INSERT INTO " + table + " (k) VALUES ({0})", [value], Ct), Ct));
        }
        return table;
    }

    private Task<int> CountOutsideAsync(string table, string where) => server.WithDbAsync(async db =>
    {
        await using var connection = new SqliteConnection(db.Database.GetConnectionString());
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {table} WHERE {where}";
        return Convert.ToInt32(await command.ExecuteScalarAsync(Ct));
    });
}
