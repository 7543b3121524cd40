using Npgsql;

namespace Lien.Server.Storage;

/// <summary>How a node hears what other nodes of one PostgreSQL announce (NOTIFY): one connection of its own per channel.</summary>
internal static class PostgresNotifications
{
    /// <summary>
    /// A connection of its own for one long-lived channel (a LISTEN, or the announcements of commits): outside the pool,
    /// so it is never handed to a unit of work, with TCP keep-alives so a dead peer is noticed within a minute.
    /// </summary>
    public static NpgsqlConnection Dedicated(string connectionString) =>
        new(new NpgsqlConnectionStringBuilder(connectionString) { KeepAlive = 30, Pooling = false }.ConnectionString);

    /// <summary>
    /// LISTENs on <paramref name="channel"/> until <paramref name="stoppingToken"/> ends, reconnecting a second after a lost
    /// connection; <paramref name="heard"/> gets each payload, and <paramref name="listening"/> runs after each LISTEN (what
    /// was announced while the node was not listening is not heard: the caller makes up for it there).
    /// </summary>
    public static async Task ListenAsync(string connectionString, string channel, Action<string> heard, Action listening, ILogger log,
        CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = Dedicated(connectionString);
                await conn.OpenAsync(stoppingToken);
                conn.Notification += (_, e) => heard(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {channel}", conn))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                listening();
                while (!stoppingToken.IsCancellationRequested) await conn.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                log.LogWarning(e, "Lost the PostgreSQL notification connection of {Channel}; reconnecting.", channel);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }
}
