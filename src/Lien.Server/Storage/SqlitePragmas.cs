using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Lien.Server.Storage;

/// <summary>
/// Per-connection SQLite settings. In WAL mode <c>synchronous = NORMAL</c> keeps every commit atomic and the file
/// consistent; a commit is made durable at the next checkpoint rather than by an fsync of its own, so an operating
/// system crash or power cut (not a process crash) can lose the last moments of commits. That is the price of
/// millisecond commits on one disk; set <c>Lien:Sqlite:Synchronous</c> to <c>FULL</c> to pay the fsync instead,
/// or run on PostgreSQL.
/// </summary>
internal sealed class SqlitePragmas(string synchronous) : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // No checkpoint on the commit path: SqliteCheckpointer does it in the background, so no payment waits for one.
    private string Sql => $"PRAGMA synchronous = {synchronous}; PRAGMA wal_autocheckpoint = 0;";

    private void Apply(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Sql;
        command.ExecuteNonQuery();
    }

    public static string Validate(string? value) => ValidateLevel(value);

    private static string ValidateLevel(string? value) => value?.ToUpperInvariant() switch
    {
        null or "" => "NORMAL",
        "NORMAL" or "FULL" or "EXTRA" => value.ToUpperInvariant(),
        _ => throw new InvalidOperationException($"Lien:Sqlite:Synchronous '{value}' must be NORMAL, FULL or EXTRA."),
    };
}

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
