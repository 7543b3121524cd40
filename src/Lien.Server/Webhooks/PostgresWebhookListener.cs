using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

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
        await PostgresNotifications.ListenAsync(connectionString, Channel,
            heard: payload =>
            {
                if (Guid.TryParseExact(payload, "N", out var lenderId)) subscriptions.Changed(lenderId);
            },
            listening: subscriptions.ChangedAll, // whatever changed while this node was not listening
            log, stoppingToken);
    }
}
