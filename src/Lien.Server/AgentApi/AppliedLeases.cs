using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Lien.Protocol;
using Lien.Server.Devices;
using Lien.Server.Leases;
using Lien.Server.Storage;
using Lien.Server.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.AgentApi;

/// <summary>
/// A device saying "I applied lease seq N" — on its stream's ack or in a check-in. Records the lease's apply time and
/// the commit-to-applied latency (the payment's own lease is committed with the payment, so this is payment-to-applied).
/// </summary>
internal sealed class AppliedLeases(TimeProvider time, IMeterFactory meters, StreamHub hub, WebhookOutbox webhooks, IServiceScopeFactory scopes) : IAsyncDisposable, IDisposable
{
    /// <summary>The most acks one unit of work writes.</summary>
    public const int MaxBatch = 64;

    private readonly Histogram<double> _latency = meters.Create("Lien.Server")
        .CreateHistogram<double>("lien.lease.apply_latency", "ms", "From a lease's commit to the device's acknowledgement of applying it.");

    private readonly Counter<long> _refused = meters.Create("Lien.Server")
        .CreateCounter<long>("lien.device.refused_acks", "{ack}", "Acks and appliedSeqs refused for naming a seq above any issued.");

    /// <summary>
    /// A device said it applied a seq above any the server issued (refused with 409): counted on its row, where the lender
    /// sees it, and in the metric. An agent never does this in normal life.
    /// </summary>
    public async Task RefuseAsync(LienDb db, Guid deviceId, CancellationToken ct)
    {
        using (await db.WriteGateAsync(ct))
            await db.Devices.Where(d => d.Id == deviceId).ExecuteUpdateAsync(u => u.SetProperty(d => d.RefusedAcks, d => d.RefusedAcks + 1), ct);
        _refused.Add(1);
    }

    /// <summary>
    /// Records the ack once (a repeat, or a seq never issued, changes nothing) and stops the device's stream resending; a
    /// <c>lease.applied</c> webhook goes to the lender's endpoints that want one, in the same transaction. Answers once
    /// the transaction holding it has committed. On SQLite, acks that arrive together are written together: every
    /// payment's lease ends in one of these, and each alone took a turn of the one writer for two one-row updates. On
    /// PostgreSQL each is written on <paramref name="db"/> by itself: there writers run side by side, and one loop
    /// writing everyone's acks fell behind (an ack waiting on a row a payment held made all behind it wait: leases reached
    /// the bench's devices seconds late, because a device reads its stream on only once its ack is answered). There an ack
    /// is one statement, atomic by itself, so when no endpoint of the device's lender (<paramref name="lenderId"/>) wants
    /// <c>lease.applied</c> it runs with no transaction around it: one round trip, no BEGIN or COMMIT; otherwise in a unit
    /// of work with its webhook message.
    /// </summary>
    public async Task RecordAsync(LienDb db, Guid deviceId, Guid lenderId, long seq, CancellationToken ct)
    {
        if (!db.IsSqlite)
        {
            var latency = await webhooks.WantedAsync(db, lenderId, WebhookEventTypes.LeaseApplied, ct)
                ? await db.InTransactionAsync(() => ApplyAsync(db, deviceId, seq, ct), ct)
                : await AloneAsync(db, deviceId, seq, ct);
            Applied(deviceId, seq, latency);
            return;
        }
        StartWriter();
        var ack = new PendingAck(deviceId, seq);
        if (!_acks.Writer.TryWrite(ack)) throw new ObjectDisposedException(nameof(AppliedLeases));
        await ack.Done.Task.WaitAsync(ct);
    }

    private void Applied(Guid deviceId, long seq, (double Ms, string Cause)? latency)
    {
        if (latency is not { } l) return;
        _latency.Record(Math.Max(0, l.Ms), new KeyValuePair<string, object?>("cause", l.Cause));
        hub.LeaseApplied(deviceId, seq);
    }

    private sealed class PendingAck(Guid deviceId, long seq)
    {
        public Guid DeviceId { get; } = deviceId;
        public long Seq { get; } = seq;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly Channel<PendingAck> _acks = Channel.CreateUnbounded<PendingAck>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _starting = new();
    private Task? _writer;

    private void StartWriter()
    {
        if (Volatile.Read(ref _writer) is not null) return;
        lock (_starting) _writer ??= Task.Run(WriteAllAsync);
    }

    // Takes what has queued (at most MaxBatch) and writes it in one unit of work; meanwhile the next acks queue.
    private async Task WriteAllAsync()
    {
        var batch = new List<PendingAck>(MaxBatch);
        while (await _acks.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _acks.Reader.TryRead(out var ack)) batch.Add(ack);
            try
            {
                await WriteAsync(batch);
            }
            catch (Exception) when (batch.Count > 1)
            {
                // One ack that cannot be written fails alone: each is tried again in a unit of its own.
                foreach (var ack in batch) await WriteAloneAsync(ack);
            }
            catch (Exception e)
            {
                batch[0].Done.TrySetException(e);
            }
            batch.Clear();
        }
    }

    private async Task WriteAloneAsync(PendingAck ack)
    {
        try
        {
            await WriteAsync([ack]);
        }
        catch (Exception e)
        {
            ack.Done.TrySetException(e);
        }
    }

    private async Task WriteAsync(IReadOnlyList<PendingAck> acks)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        // Not the requests' tokens: a device that hangs up after its ack is sent still has it recorded.
        var applied = await db.InTransactionAsync(async () =>
        {
            var latencies = new (double Ms, string Cause)?[acks.Count];
            for (var i = 0; i < acks.Count; i++) latencies[i] = await ApplyAsync(db, acks[i].DeviceId, acks[i].Seq, CancellationToken.None);
            return latencies;
        }, CancellationToken.None);
        for (var i = 0; i < acks.Count; i++)
        {
            Applied(acks[i].DeviceId, acks[i].Seq, applied[i]);
            acks[i].Done.TrySetResult();
        }
    }

    // One ack's two rows: the device's applied seq and the lease's apply time. Hand-written: the device's seq moves only
    // forward, and only to a seq issued; the lease is stamped only when the device's seq moved. On PostgreSQL one
    // statement (the device's update a data-modifying WITH): a round trip and a statement fewer for every payment's
    // lease. SQLite has no UPDATE inside WITH, and there the statements run on the writer's connection, no round trip
    // apart: the two updates, then the lease's columns read by its key. Not an UPDATE … RETURNING there: SQLite holds
    // a RETURNING statement's rows in a temporary b-tree it opens and frees each time (its own pager and page cache): on
    // the one writer's thread, two pager resets a payment under the payments bench (a perf probe on pager_reset), and
    // without it about 4 % less server CPU a payment (6 alternated pairs, docs/BENCHMARKS.md).
    // Null when it changed nothing.
    private async Task<(double Ms, string Cause)?> AloneAsync(LienDb db, Guid deviceId, long seq, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            return await ApplyAsync(db, deviceId, seq, ct, alone: true);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task<(double Ms, string Cause)?> ApplyAsync(LienDb db, Guid deviceId, long seq, CancellationToken ct, bool alone = false)
    {
        var now = time.GetUtcNow();
        if (db.IsSqlite)
        {
            using var device = new RawCommand<Device>(db, """
                UPDATE "Devices" SET "AppliedSeq" = @AppliedSeq WHERE "Id" = @Id AND "AppliedSeq" < @AppliedSeq AND "LeaseSeq" >= @AppliedSeq
                """).With(nameof(Device.Id), deviceId).With(nameof(Device.AppliedSeq), seq);
            if (await device.ExecuteAsync(ct) == 0) return null; // a repeat, or a seq the server never issued
            using var stamp = new RawCommand<LeaseRecord>(db, """
                UPDATE "Leases" SET "AppliedAt" = @AppliedAt WHERE "DeviceId" = @DeviceId AND "Seq" = @Seq AND "AppliedAt" IS NULL
                """).With(nameof(LeaseRecord.DeviceId), deviceId).With(nameof(LeaseRecord.Seq), seq).With(nameof(LeaseRecord.AppliedAt), now);
            if (await stamp.ExecuteAsync(ct) == 0) return null;
        }
        using var lease = new RawCommand<LeaseRecord>(db, db.IsSqlite
            ? """
              SELECT "CreatedAt", "Cause", "LenderId", "Mode" FROM "Leases" WHERE "DeviceId" = @DeviceId AND "Seq" = @Seq
              """
            : """
              WITH d AS (
                  UPDATE "Devices" SET "AppliedSeq" = @Seq WHERE "Id" = @DeviceId AND "AppliedSeq" < @Seq AND "LeaseSeq" >= @Seq
                  RETURNING "Id")
              UPDATE "Leases" AS l SET "AppliedAt" = @AppliedAt FROM d
              WHERE l."DeviceId" = d."Id" AND l."Seq" = @Seq AND l."AppliedAt" IS NULL
              RETURNING l."CreatedAt", l."Cause", l."LenderId", l."Mode"
              """, alone).With(nameof(LeaseRecord.DeviceId), deviceId).With(nameof(LeaseRecord.Seq), seq);
        if (!db.IsSqlite) lease.With(nameof(LeaseRecord.AppliedAt), now);
        DateTimeOffset createdAt;
        string cause;
        Guid lenderId;
        LeaseMode mode;
        await using (var row = await lease.ReadAsync(ct))
        {
            if (!await row.ReadAsync(ct)) return null;
            createdAt = lease.Column<DateTimeOffset>(row, 0, nameof(LeaseRecord.CreatedAt));
            cause = row.GetString(1);
            lenderId = lease.Column<Guid>(row, 2, nameof(LeaseRecord.LenderId));
            mode = lease.Column<LeaseMode>(row, 3, nameof(LeaseRecord.Mode));
        }
        if (!alone) // alone: no endpoint wanted it
            await webhooks.EnqueueAsync(db, lenderId, WebhookEventTypes.LeaseApplied,
            () => new JsonObject { ["deviceId"] = deviceId, ["seq"] = seq, ["mode"] = mode.ToString(), ["appliedAt"] = now, ["cause"] = cause }, ct);
        return ((now - createdAt).TotalMilliseconds, cause);
    }

    /// <summary>Lets the queued acks be written, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _acks.Writer.TryComplete();
        if (Writer() is { } writer) await writer;
    }

    public void Dispose()
    {
        _acks.Writer.TryComplete();
        Writer()?.Wait(TimeSpan.FromSeconds(10));
    }

    private Task? Writer()
    {
        lock (_starting) return _writer;
    }
}
