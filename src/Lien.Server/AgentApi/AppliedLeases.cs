using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
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
internal sealed class AppliedLeases(TimeProvider time, IMeterFactory meters, StreamHub hub, WebhookOutbox webhooks)
{
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
    /// <c>lease.applied</c> webhook goes to the lender's endpoints that want one, in the same transaction.
    /// </summary>
    public async Task RecordAsync(LienDb db, Guid deviceId, long seq, CancellationToken ct)
    {
        // One transaction for both rows: the device's applied seq and the lease's apply time. Two hand-written statements
        // (every payment's lease ends in one of these acks): the device's seq moves only forward, and only to a seq issued.
        var latency = await db.InTransactionAsync(async () =>
        {
            using (var device = new RawCommand<Device>(db, """
                UPDATE "Devices" SET "AppliedSeq" = @AppliedSeq WHERE "Id" = @Id AND "AppliedSeq" < @AppliedSeq AND "LeaseSeq" >= @AppliedSeq
                """).With(nameof(Device.Id), deviceId).With(nameof(Device.AppliedSeq), seq))
            {
                if (await device.ExecuteAsync(ct) == 0) return null; // a repeat, or a seq the server never issued
            }
            var now = time.GetUtcNow();
            using var lease = new RawCommand<LeaseRecord>(db, """
                UPDATE "Leases" SET "AppliedAt" = @AppliedAt WHERE "DeviceId" = @DeviceId AND "Seq" = @Seq AND "AppliedAt" IS NULL
                RETURNING "CreatedAt", "Cause", "LenderId", "Mode"
                """).With(nameof(LeaseRecord.DeviceId), deviceId).With(nameof(LeaseRecord.Seq), seq).With(nameof(LeaseRecord.AppliedAt), now);
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
            await webhooks.EnqueueAsync(db, lenderId, WebhookEventTypes.LeaseApplied,
                () => new JsonObject { ["deviceId"] = deviceId, ["seq"] = seq, ["mode"] = mode.ToString(), ["appliedAt"] = now, ["cause"] = cause }, ct);
            return ((now - createdAt).TotalMilliseconds, cause) as (double Ms, string Cause)?;
        }, ct);
        if (latency is not { } l) return;
        _latency.Record(Math.Max(0, l.Ms), new KeyValuePair<string, object?>("cause", l.Cause));
        hub.LeaseApplied(deviceId, seq);
    }
}
