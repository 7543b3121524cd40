using System.Security.Cryptography;
using Lien.Server.AgentApi;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lien.Server.Tests.AgentApi;

/// <summary>
/// The device API's SQLite reads on threads of their own: many at once, each answered with its own device's row (or
/// none), and the caller always goes on on the thread pool, never on a reader thread (which would then run the rest of
/// the request, and every request behind it would wait).
/// </summary>
public sealed class SqliteReadThreadsTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task ReadAsync_ManyAtOnce_EachItsOwnRowAndTheCallerContinuesOffTheReaderThreads()
    {
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var enrolled = await server.Client().EnrollAsync(key, device.Str("imei"));

        using var threads = new SqliteReadThreads(await ConnectionStringAsync(), 2);
        var reads = await Task.WhenAll(Enumerable.Range(0, 400).Select(async i =>
        {
            var row = await threads.ReadAsync(i % 2 == 0 ? enrolled.DeviceId : Guid.NewGuid());
            return (Known: i % 2 == 0, Row: row, Thread: Thread.CurrentThread);
        }));

        Assert.All(reads, r =>
        {
            if (r.Known) Assert.Equal(enrolled.Seq, Assert.IsType<CheckInRow>(r.Row).LeaseSeq);
            else Assert.Null(r.Row);
            Assert.True(r.Thread.IsThreadPoolThread, $"a caller went on on thread '{r.Thread.Name}'");
        });
    }

    [Fact]
    public async Task ReadAsync_QueuedBehindOthers_SeesEveryCommitMadeBeforeItWasAsked()
    {
        // Reads queued together share a read transaction, whose snapshot is taken at its first statement: a read queued
        // while one ran must not join it, or it would answer from before a commit its caller had already seen.
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var enrolled = await server.Client().EnrollAsync(key, device.Str("imei"));
        using var threads = new SqliteReadThreads(await ConnectionStringAsync(), 1);
        using var stop = new CancellationTokenSource();
        var busy = Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (!stop.IsCancellationRequested) await threads.ReadAsync(enrolled.DeviceId);
        }));
        var stale = new List<(int Wrote, int Read)>();
        for (var i = 1; i <= 300; i++)
        {
            await server.WithDbAsync(db => db.InTransactionAsync(() =>
                db.Database.ExecuteSqlAsync($"UPDATE \"Devices\" SET \"WrongCodes\" = {i} WHERE \"Id\" = {enrolled.DeviceId}"), CancellationToken.None));
            var read = Assert.IsType<CheckInRow>(await threads.ReadAsync(enrolled.DeviceId)).WrongCodes;
            if (read != i) stale.Add((i, read));
        }
        await stop.CancelAsync();
        await busy;
        Assert.Empty(stale);
    }

    [Fact]
    public async Task ReadAsync_AfterDispose_Refused()
    {
        var threads = new SqliteReadThreads(await ConnectionStringAsync(), 1);
        Assert.Null(await threads.ReadAsync(Guid.NewGuid()));
        threads.Dispose();
        Assert.Throws<ObjectDisposedException>(() => threads.ReadAsync(Guid.NewGuid()));
    }

    // The server's database, as the device API's own connections open it.
    private async Task<string> ConnectionStringAsync()
    {
        await using var scope = server.Services.CreateAsyncScope();
        return SqliteDirect.ConnectionString((SqliteLienDb)scope.ServiceProvider.GetRequiredService<LienDb>());
    }
}
