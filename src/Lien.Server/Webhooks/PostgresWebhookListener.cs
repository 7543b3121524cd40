using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Lien.Server.Webhooks;

/// <summary>
/// Several nodes on one PostgreSQL: a change of a lender's webhook endpoints is announced (NOTIFY, with the lender's id,
/// sent when the change commits) and every node LISTENing forgets its copy of that lender's endpoints
/// (<see cref="WebhookSubscriptions.Changed"/>). A lost announcement is bounded by the copy's time to live.
/// </summary>
internal sealed class PostgresWebhookListener(IServiceScopeFactory scopes, WebhookSubscriptions subscriptions,
    ILogger<PostgresWebhookListener> log) : BackgroundService
{
    public const string Channel = "lien_webhooks";

    /// <summary>Announces, when the caller's transaction commits (at once outside one), that the lender's endpoints changed. Nothing on SQLite: one node.</summary>
    public static async Task AnnounceAsync(LienDb db, Guid lenderId, CancellationToken ct)
    {
        if (db.IsSqlite) return;
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({Channel}, {lenderId.ToString("N")})", ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string connectionString;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            if (db.IsSqlite) return;
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
                    if (Guid.TryParseExact(e.Payload, "N", out var lenderId)) subscriptions.Changed(lenderId);
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", conn))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                subscriptions.ChangedAll(); // whatever changed while this node was not listening
                while (!stoppingToken.IsCancellationRequested) await conn.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                log.LogWarning(e, "Lost the PostgreSQL connection that hears of webhook endpoint changes; reconnecting.");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }
}
