using System.Net;
using System.Text;
using Lien.Server.AgentApi;
using Lien.Server.Audit;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lien.Server.Tests.AgentApi;

/// <summary>
/// The last-seen flush on SQLite: one transaction for as long as nobody else wants the file (every commit makes each
/// reading connection drop its cache and its memory map), and it lets a waiting writer in after at most
/// <see cref="LastSeenRecorder.MinRowsPerTransaction"/> rows.
/// </summary>
public sealed class LastSeenRecorderTests(LastSeenRecorderTests.QuietServer server) : IClassFixture<LastSeenRecorderTests.QuietServer>
{
    /// <summary>
    /// A SQLite server whose WAL checkpointer does not tick during a test: its restart takes the writer's turn every second
    /// (real time), and a flush that meets it lets it in — on a loaded machine that split the "nobody else writing" flush.
    /// </summary>
    public sealed class QuietServer() : LienServer(Store.Sqlite)
    {
        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [new("Lien:Sqlite:CheckpointInterval", "01:00:00")];
    }

    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task Flush_NobodyElseWriting_OneTransactionForTheWholeBatch()
    {
        var recorder = server.Services.GetRequiredService<LastSeenRecorder>();
        var ids = await SawAsync(recorder, 3 * LastSeenRecorder.MinRowsPerTransaction);
        // The import's audit events chained first: the sequencer's pass would be a writer waiting.
        await server.Services.GetRequiredService<AuditSequencer>().CatchUpAsync(Ct);

        await recorder.FlushAsync(Ct);

        Assert.Equal([ids.Count], recorder.LastFlushTransactions);
        Assert.Equal(ids.Count, await CountAsync(ids));
    }

    [Fact]
    public async Task Flush_AUnitOfWorkWaits_LetInAfterTheFirstThousandRowsAndTheRestWrittenAfter()
    {
        var recorder = server.Services.GetRequiredService<LastSeenRecorder>();
        var writer = server.Services.GetRequiredService<SqliteWriter>();
        var ids = await SawAsync(recorder, 3 * LastSeenRecorder.MinRowsPerTransaction);
        await server.Services.GetRequiredService<AuditSequencer>().CatchUpAsync(Ct);

        // The flush queues behind a turn the test holds, and a unit of work behind the flush: when the flush has the
        // file, the unit already waits.
        var held = await server.WithDbAsync(db => db.WriteGateAsync(Ct));
        var flush = recorder.FlushAsync(Ct);
        await UntilAsync(() => writer.Contended);
        var unit = server.WithDbAsync(db => db.InTransactionAsync(() => db.Database.ExecuteSqlRawAsync("SELECT 1", Ct), Ct));
        await UntilAsync(() => writer.Waiting > 0);
        held.Dispose();
        await Task.WhenAll(flush, unit);

        // The unit got in after the first thousand rows; nobody waited after it, so the rest went in one transaction.
        Assert.Equal([LastSeenRecorder.MinRowsPerTransaction, ids.Count - LastSeenRecorder.MinRowsPerTransaction], recorder.LastFlushTransactions);
        Assert.Equal(ids.Count, await CountAsync(ids));
    }

    // Devices of a lender of their own, registered by one import, each seen now.
    private async Task<List<Guid>> SawAsync(LastSeenRecorder recorder, int count)
    {
        var a = await server.NewLenderAsync();
        var csv = "imei\n" + string.Join('\n', Enumerable.Range(0, count).Select(_ => LenderApi.NewImei()));
        var imported = await (await a.Admin.PostAsync("/v1/devices/import", new StringContent(csv, Encoding.UTF8, "text/csv"))).Json(HttpStatusCode.OK);
        var ids = imported.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("id").GetGuid()).ToList();
        Assert.Equal(count, ids.Count);
        foreach (var id in ids) recorder.Saw(id, server.Time.GetUtcNow());
        return ids;
    }

    private Task<int> CountAsync(List<Guid> ids) => server.WithDbAsync(db => db.Set<DeviceSighting>().CountAsync(s => ids.Contains(s.DeviceId), Ct));

    private static async Task UntilAsync(Func<bool> condition)
    {
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); !condition(); await Task.Delay(5))
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the writer never saw the waiter");
    }
}
