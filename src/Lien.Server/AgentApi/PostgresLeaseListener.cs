using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Lien.Server.AgentApi;

/// <summary>
/// Several nodes on one PostgreSQL: each LISTENs on one channel; a lease committed on any node NOTIFYs the device id
/// (and the node's), and the node holding that device's stream wakes it to read the lease. No other broker.
/// </summary>
internal sealed class PostgresLeaseListener(IServiceScopeFactory scopes, StreamHub hub, ILogger<PostgresLeaseListener> log) : BackgroundService
{
    public const string Channel = "lien_lease";

    public static string Payload(Guid deviceId, StreamHub hub) => $"{deviceId:N}:{hub.NodeId}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string connectionString;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            if (db.IsSqlite) return; // one node: commits wake streams in-process
            connectionString = db.Database.GetConnectionString()!;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { KeepAlive = 30, Pooling = false }.ConnectionString);
                await conn.OpenAsync(stoppingToken);
                conn.Notification += (_, e) =>
                {
                    // "{device}:{node}"; this node's own commits reached its streams already.
                    var payload = e.Payload.AsSpan();
                    if (payload.Length > 33 && payload[32] == ':' && Guid.TryParseExact(payload[..32], "N", out var deviceId) && !payload[33..].SequenceEqual(hub.NodeId))
                        hub.LeaseCommitted(deviceId);
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", conn))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                hub.WakeAll(); // whatever was committed while we were not listening
                while (!stoppingToken.IsCancellationRequested) await conn.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                log.LogWarning(e, "Lost the PostgreSQL notification connection; reconnecting.");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }
}
