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

    /// <summary>Applies the settings to a connection opened outside EF (the writer's).</summary>
    internal void Apply(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The <c>synchronous</c> level configured, checked: NORMAL (the default), FULL or EXTRA.</summary>
    public static string Validate(string? value) => value?.ToUpperInvariant() switch
    {
        null or "" => "NORMAL",
        "NORMAL" or "FULL" or "EXTRA" => value.ToUpperInvariant(),
        _ => throw new InvalidOperationException($"Lien:Sqlite:Synchronous '{value}' must be NORMAL, FULL or EXTRA."),
    };
}
