using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using SQLitePCL;

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
    // The settings belong to the native connection, which Microsoft.Data.Sqlite pools: EF opens a pooled one for every
    // query, and setting them at each open was two more statements parsed and run per read. Once per native connection.
    private readonly ConditionalWeakTable<sqlite3, object> _applied = [];

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (connection is SqliteConnection { Handle: { } handle } && _applied.TryGetValue(handle, out _)) return;
        Apply(connection);
    }

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ConnectionOpened(connection, eventData); // SQLite runs synchronously whichever method is called
        return Task.CompletedTask;
    }

    // No checkpoint on the commit path: SqliteCheckpointer does it in the background, so no payment waits for one.
    private string Sql => $"PRAGMA synchronous = {synchronous}; PRAGMA wal_autocheckpoint = 0;";

    /// <summary>Applies the settings to a connection opened outside EF (the writer's).</summary>
    internal void Apply(DbConnection connection)
    {
        using (var command = connection.CreateCommand())
        {
            command.CommandText = Sql;
            command.ExecuteNonQuery();
        }
        if (connection is SqliteConnection { Handle: { } handle }) _applied.AddOrUpdate(handle, this);
    }

    /// <summary>The <c>synchronous</c> level configured, checked: NORMAL (the default), FULL or EXTRA.</summary>
    public static string Validate(string? value) => value?.ToUpperInvariant() switch
    {
        null or "" => "NORMAL",
        "NORMAL" or "FULL" or "EXTRA" => value.ToUpperInvariant(),
        _ => throw new InvalidOperationException($"Lien:Sqlite:Synchronous '{value}' must be NORMAL, FULL or EXTRA."),
    };
}
