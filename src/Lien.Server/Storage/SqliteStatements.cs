using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Lien.Server.Storage;

/// <summary>
/// The writer connection's prepared statements, kept from one unit of work to the next. Microsoft.Data.Sqlite keeps a
/// statement only as long as the command that prepared it, and EF makes a command per execution, so every statement of
/// every payment was parsed and planned again — about a tenth of the server's CPU on the payment path (a profile of the
/// M-Pesa benchmark: <c>sqlite3RunParser</c> and the code generator under it). The writer's connection lives as long as
/// the writer, so one command per SQL text, kept here, runs each statement prepared once: a command that arrives with
/// the same text has its parameters and transaction handed to the kept one, which runs instead (EF's interceptor API
/// lets a result stand in for the execution). Used only by the writer, under its gate: never by two threads at once.
/// </summary>
internal sealed class SqliteStatements : IDisposable
{
    /// <summary>
    /// The most texts kept; when one more arrives, every one not being read is let go and the hot ones come back at their
    /// next run (one whose reader is open stays: a query being read is never pulled from under its reader).
    /// </summary>
    public const int Capacity = 256;

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private sealed class Entry(SqliteCommand command)
    {
        public readonly SqliteCommand Command = command;
        public SqliteDataReader? Reader; // the last one handed out: while it is open, the command is in use
    }

    /// <summary>How many texts are kept (for tests).</summary>
    public int Count => _entries.Count;

    /// <summary>The texts kept (for tests).</summary>
    public IReadOnlyList<string> Texts => [.. _entries.Keys];

    /// <summary>Runs <paramref name="command"/> on its kept twin and answers its reader; null when the twin is in use.</summary>
    public SqliteDataReader? ExecuteReader(DbCommand command)
    {
        if (Kept((SqliteConnection)command.Connection!, command.CommandText) is not { } entry) return null;
        var kept = entry.Command;
        kept.Transaction = (SqliteTransaction?)command.Transaction;
        kept.CommandTimeout = command.CommandTimeout;
        foreach (SqliteParameter p in command.Parameters) kept.Parameters.Add(p);
        return Execute(entry);
    }

    /// <summary>Runs <paramref name="command"/> on its kept twin and answers the rows it changed; null when the twin is in use.</summary>
    public int? ExecuteNonQuery(DbCommand command)
    {
        if (ExecuteReader(command) is not { } reader) return null;
        reader.Dispose();
        return reader.RecordsAffected;
    }

    /// <summary>Runs <paramref name="sql"/> (no parameters) in <paramref name="transaction"/>, prepared once.</summary>
    public void Run(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        if (Kept(connection, sql) is { } entry)
        {
            entry.Command.Transaction = transaction;
            Execute(entry).Dispose();
            return;
        }
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    // The kept command for sql, its parameters cleared; null when it is being read, or when every kept one is.
    private Entry? Kept(SqliteConnection connection, string sql)
    {
        if (!_entries.TryGetValue(sql, out var entry))
        {
            if (_entries.Count >= Capacity) LetGoIdle();
            if (_entries.Count >= Capacity) return null; // every kept text is being read: this one runs unprepared
            var created = connection.CreateCommand();
            created.CommandText = sql;
            _entries.Add(sql, entry = new Entry(created));
        }
        else if (entry.Reader is { IsClosed: false })
        {
            return null; // a reader of this text is still being read: the command runs as it is, unprepared
        }
        entry.Command.Parameters.Clear();
        return entry;
    }

    private SqliteDataReader Execute(Entry entry)
    {
        try
        {
            return entry.Reader = entry.Command.ExecuteReader();
        }
        catch
        {
            Drop(entry.Command.CommandText, entry); // a statement that failed is prepared afresh next time
            throw;
        }
    }

    private void Drop(string sql, Entry entry)
    {
        _entries.Remove(sql);
        entry.Reader?.Dispose();
        entry.Command.Dispose();
    }

    private void LetGoIdle()
    {
        foreach (var (sql, entry) in _entries.Where(e => e.Value.Reader is not { IsClosed: false }).ToList())
            Drop(sql, entry);
    }

    /// <summary>Lets every kept statement go: before the connection they were prepared on is closed.</summary>
    public void Clear()
    {
        foreach (var (sql, entry) in _entries.ToList()) Drop(sql, entry);
    }

    public void Dispose() => Clear();
}
