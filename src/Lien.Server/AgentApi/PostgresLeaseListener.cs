using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using System.Threading.Channels;
using Npgsql;

namespace Lien.Server.AgentApi;

/// <summary>
/// The devices whose lease (or enrollment) this node committed, to announce to the other nodes. Announced after the
/// commit, not inside it: a NOTIFY inside a transaction takes PostgreSQL's one notification-queue lock from before the
/// commit to its end, which made every payment's commit (its WAL flush included) wait for the one before.
/// </summary>
internal sealed class LeaseAnnouncements
{
    private readonly Channel<Guid> _devices = Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Call once the transaction that wrote the device's lease has committed (<c>db.AfterCommit</c>).</summary>
    public void Committed(Guid deviceId) => _devices.Writer.TryWrite(deviceId);

    internal ChannelReader<Guid> Reader => _devices.Reader;
}

/// <summary>
/// Several nodes on one PostgreSQL: each LISTENs on one channel; each NOTIFYs, shortly after the commits, the devices
/// whose leases it committed (many to a notification), and the node holding one of those devices' streams wakes it to
/// read the lease. No other broker. A node that stops between a commit and its notification leaves the device to
/// the lease's push and its next check-in, as a device that was offline.
/// </summary>
internal sealed class PostgresLeaseListener(IServiceScopeFactory scopes, StreamHub hub, LeaseAnnouncements announcements,
    ILogger<PostgresLeaseListener> log) : BackgroundService
{
    public const string Channel = "lien_lease";

    // "{node}:{device}{device}…": each device id as 32 hex digits; well under PostgreSQL's 8,000-byte payload.
    private const int DevicesPerNotification = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string connectionString;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            if (db.IsSqlite) return; // one node: commits wake streams in-process
            connectionString = db.Database.GetConnectionString()!;
        }
        await Task.WhenAll(ListenAsync(connectionString, stoppingToken), AnnounceAsync(connectionString, stoppingToken));
    }

    private async Task AnnounceAsync(string connectionString, CancellationToken stoppingToken)
    {
        var payload = new System.Text.StringBuilder();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = PostgresNotifications.Dedicated(connectionString);
                await conn.OpenAsync(stoppingToken);
                while (await announcements.Reader.WaitToReadAsync(stoppingToken))
                {
                    payload.Clear().Append(hub.NodeId).Append(':');
                    for (var n = 0; n < DevicesPerNotification && announcements.Reader.TryRead(out var device); n++) payload.Append(device.ToString("N"));
                    await using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", conn);
                    notify.Parameters.AddWithValue("channel", Channel);
                    notify.Parameters.AddWithValue("payload", payload.ToString());
                    await notify.ExecuteNonQueryAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                log.LogWarning(e, "Could not announce committed leases to the other nodes; reconnecting (their devices get them by push and check-in).");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    // "{node}:{device}{device}…"; this node's own commits reached its streams already. After a lost connection every
    // stream reads its device again (whatever was committed while this node was not listening).
    private Task ListenAsync(string connectionString, CancellationToken stoppingToken) =>
        PostgresNotifications.ListenAsync(connectionString, Channel, heard: payload =>
        {
            var text = payload.AsSpan();
            var colon = text.IndexOf(':');
            if (colon < 0 || text[..colon].SequenceEqual(hub.NodeId)) return;
            for (var ids = text[(colon + 1)..]; ids.Length >= 32; ids = ids[32..])
                if (Guid.TryParseExact(ids[..32], "N", out var deviceId)) hub.LeaseCommitted(deviceId);
        }, listening: hub.WakeAll, log, stoppingToken);
}
