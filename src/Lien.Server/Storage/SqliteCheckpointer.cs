namespace Lien.Server.Storage;

/// <summary>
/// Moves the WAL into the database file every second, off the commit path (connections run with
/// <c>wal_autocheckpoint = 0</c>). A passive checkpoint never blocks readers or writers; it copies what it can.
/// </summary>
internal sealed class SqliteCheckpointer(IServiceScopeFactory scopes, IConfiguration config, ILogger<SqliteCheckpointer> log) : BackgroundService
{
    private TimeSpan Interval => config.GetValue("Lien:Sqlite:CheckpointInterval", TimeSpan.FromSeconds(1));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string connectionString;
        await using (var scope = scopes.CreateAsyncScope())
        {
            if (scope.ServiceProvider.GetRequiredService<LienDb>() is not SqliteLienDb db) return;
            connectionString = Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.GetConnectionString(db.Database)!;
        }
        // Real time on purpose: this is housekeeping of a file, not a rule of the product.
        using var timer = new PeriodicTimer(Interval);
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(stoppingToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { await command.ExecuteNonQueryAsync(stoppingToken); }
                catch (Microsoft.Data.Sqlite.SqliteException e) { log.LogWarning(e, "WAL checkpoint failed; trying again in a second."); }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
