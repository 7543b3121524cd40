using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Lien.Server.Storage;

/// <summary>
/// A PostgreSQL unit of work's hand-written writes (<see cref="RawInsert"/>, <see cref="RawUpdates"/>), held and sent in
/// one round trip (an <see cref="NpgsqlBatch"/> in the unit's transaction) when the unit saves — a payment's ledger entry,
/// lease, audit events, plan and device in one — instead of by EF's save, whose change detection, command ordering and
/// batching were a fifth of the server's CPU per payment. What is held is sent before anything else the unit runs on its
/// connection (an EF query or save: <see cref="Flusher"/>; a <see cref="RawCommand"/>), so every statement still runs in
/// the order the unit made it, as on SQLite, where the same writes run at once on the writer. An update expected to match
/// one row (a concurrency token checked) that matches none throws <see cref="DbUpdateConcurrencyException"/>, and the unit
/// is redone (<see cref="Transactions.IsConflict"/>), as after EF's save. Statements use positional parameters ($1…), so
/// Npgsql sends their text as it is, and they are prepared automatically like EF's (<c>Max Auto Prepare</c>).
/// </summary>
internal sealed class PostgresWrites
{
    // Parameters are made through the model's type mappings (as EF writes each value), which make them from a command.
    private static readonly NpgsqlCommand ParameterMaker = new();

    private readonly List<NpgsqlBatchCommand> _commands = [];
    private readonly List<string?> _mustMatchOne = []; // per command: what to say when it does not change exactly one row
    private readonly List<object?> _inserted = []; // per command: the new row it inserts (RawInsert's entity), or null

    /// <summary>Whether a write waits to be sent.</summary>
    public bool Pending => _commands.Count > 0;

    /// <summary>How many writes wait (for tests).</summary>
    public int Count => _commands.Count;

    /// <summary>How many batches this context has sent (for tests: a unit's round trips).</summary>
    public long Sent { get; private set; }

    /// <summary>
    /// Holds <paramref name="sql"/> (positional parameters) with <paramref name="values"/>, each as its mapping stores it.
    /// <paramref name="unlessOneRow"/>: the message of the conflict raised when it changes other than one row.
    /// </summary>
    public void Add(string sql, ReadOnlySpan<(RelationalTypeMapping Mapping, object? Value, bool Nullable)> values, string? unlessOneRow = null,
        object? inserts = null)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (mapping, value, nullable) in values)
            command.Parameters.Add(mapping.CreateParameter(ParameterMaker, "", value, nullable: nullable || value is null));
        _commands.Add(command);
        _mustMatchOne.Add(unlessOneRow);
        _inserted.Add(inserts);
    }

    /// <summary>
    /// Hands the held new rows back to EF's change tracker, as added, when the unit's save is EF's anyway (it adds or
    /// deletes rows of its own): EF orders and batches them with its own, one round trip as before rather than two. False,
    /// and nothing changed, when something held is not a new row with its entity.
    /// </summary>
    public bool TrackInstead(LienDb db)
    {
        if (_inserted.Contains(null)) return false;
        foreach (var row in _inserted) db.Add(row!);
        Clear();
        return true;
    }

    /// <summary>Forgets what is held (the unit is starting, was rolled back, or is over).</summary>
    public void Clear()
    {
        _commands.Clear();
        _mustMatchOne.Clear();
        _inserted.Clear();
    }

    /// <summary>Sends what is held, in <paramref name="db"/>'s transaction, in one round trip.</summary>
    public async Task FlushAsync(LienDb db, CancellationToken ct)
    {
        if (!Pending) return;
        Sent++;
        await using var batch = Batch(db);
        try
        {
            await batch.ExecuteNonQueryAsync(ct);
            Check(batch);
        }
        finally
        {
            Clear();
        }
    }

    /// <summary>The same, for a caller that cannot wait (EF's synchronous API).</summary>
    public void Flush(LienDb db)
    {
        if (!Pending) return;
        Sent++;
        using var batch = Batch(db);
        try
        {
            batch.ExecuteNonQuery();
            Check(batch);
        }
        finally
        {
            Clear();
        }
    }

    private NpgsqlBatch Batch(LienDb db)
    {
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction() as NpgsqlTransaction
            ?? throw new InvalidOperationException("Held writes are sent inside their unit of work's transaction.");
        var batch = new NpgsqlBatch((NpgsqlConnection)db.Database.GetDbConnection(), transaction);
        foreach (var c in _commands) batch.BatchCommands.Add(c);
        return batch;
    }

    private void Check(NpgsqlBatch batch)
    {
        for (var i = 0; i < _mustMatchOne.Count; i++)
            if (_mustMatchOne[i] is { } message && batch.BatchCommands[i].RecordsAffected != 1)
                throw new DbUpdateConcurrencyException($"{message} ({batch.BatchCommands[i].RecordsAffected} rows matched).");
    }

    /// <summary>
    /// Sends a PostgreSQL context's held writes before any command EF runs on its connection (a query, a save, raw SQL),
    /// so they keep their place in the unit's order, and before its transaction commits, however it was begun (a save
    /// that has nothing of EF's to write runs no command); a rollback drops them.
    /// </summary>
    internal sealed class Flusher : DbCommandInterceptor, IDbTransactionInterceptor
    {
        public InterceptionResult TransactionCommitting(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
        {
            FlushFor(eventData);
            return result;
        }

        public async ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData,
            InterceptionResult result, CancellationToken cancellationToken = default)
        {
            await FlushForAsync(eventData, cancellationToken);
            return result;
        }

        public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => (eventData.Context as LienDb)?.PostgresWrites.Clear();

        public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            TransactionRolledBack(transaction, eventData);
            return Task.CompletedTask;
        }

        public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
        {
            FlushFor(eventData);
            return result;
        }

        public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            await FlushForAsync(eventData, cancellationToken);
            return result;
        }

        public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
        {
            FlushFor(eventData);
            return result;
        }

        public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            await FlushForAsync(eventData, cancellationToken);
            return result;
        }

        public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
        {
            FlushFor(eventData);
            return result;
        }

        public override async ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<object> result, CancellationToken cancellationToken = default)
        {
            await FlushForAsync(eventData, cancellationToken);
            return result;
        }

        private static void FlushFor(DbContextEventData e)
        {
            if (e.Context is LienDb { PostgresWrites.Pending: true } db) db.PostgresWrites.Flush(db);
        }

        private static Task FlushForAsync(DbContextEventData e, CancellationToken ct) =>
            e.Context is LienDb { PostgresWrites.Pending: true } db ? db.PostgresWrites.FlushAsync(db, ct) : Task.CompletedTask;
    }
}
