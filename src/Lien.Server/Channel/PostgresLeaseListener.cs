using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Lien.Server.Channel;

/// <summary>
/// Several nodes on one PostgreSQL: each LISTENs on one channel; a lease committed on any node NOTIFYs the device id,
/// and the node holding that device's stream wakes it. No other broker.
/// </summary>
internal sealed class PostgresLeaseListener(IServiceScopeFactory scopes, ChannelHub hub, ILogger<PostgresLeaseListener> log) : BackgroundService
{
    public const string Channel = "lien_lease";

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
                    if (Guid.TryParseExact(e.Payload, "N", out var deviceId)) hub.LeaseCommitted(deviceId);
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
