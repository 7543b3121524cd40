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
    /// True while a unit of work runs with its transaction deferred (<see cref="Transactions.InTransactionAsync{T}"/>,
    /// <c>deferTransaction</c>): its reads run alone, each a statement of its own (at READ COMMITTED, which a transaction
    /// gives each statement too, the same snapshots), and its writes are held until its save sends them as one batch with
    /// no BEGIN and no COMMIT — PostgreSQL runs a batch that ends in one Sync as one implicit transaction, all or nothing —
    /// the round trip of a COMMIT saved. Held writes that must be sent earlier (something else is about to run on the
    /// connection) begin the unit's transaction first, so everything from there on commits together, as without this.
    /// </summary>
    public bool TransactionDeferred { get; set; }

    /// <summary>How many transactions deferred units had to begin before their save (for tests).</summary>
    public long Begun { get; private set; }

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

    /// <summary>
    /// Sends what is held, in <paramref name="db"/>'s transaction, in one round trip. <paramref name="last"/>: the unit's
    /// save, after which nothing of the unit runs — in a unit whose transaction is deferred and was never begun, the
    /// batch is the unit's whole transaction.
    /// </summary>
    public async Task FlushAsync(LienDb db, CancellationToken ct, bool last = false)
    {
        if (!Pending) return;
        Sent++;
        if (NeedsTransaction(db, last))
        {
            await db.Database.BeginTransactionAsync(ct);
            Begun++;
        }
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

    /// <summary>The same, for a caller that cannot wait (EF's synchronous API); never a unit's last.</summary>
    public void Flush(LienDb db)
    {
        if (!Pending) return;
        Sent++;
        if (NeedsTransaction(db, last: false))
        {
            db.Database.BeginTransaction();
            Begun++;
        }
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

    /// <summary>
    /// The transaction a raw statement of a unit runs in: the unit's, or — in a unit whose transaction is deferred — one
    /// begun now (no round trip: Npgsql sends the BEGIN with the next statement); null outside any unit.
    /// </summary>
    public static NpgsqlTransaction? TransactionFor(LienDb db)
    {
        if (db.Database.CurrentTransaction?.GetDbTransaction() is NpgsqlTransaction open) return open;
        if (!db.PostgresWrites.TransactionDeferred) return null;
        db.PostgresWrites.Begun++;
        return (NpgsqlTransaction)db.Database.BeginTransaction().GetDbTransaction();
    }

    private bool NeedsTransaction(LienDb db, bool last) =>
        db.Database.CurrentTransaction is null && TransactionDeferred && !last;

    private NpgsqlBatch Batch(LienDb db)
    {
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction() as NpgsqlTransaction;
        if (transaction is null && !TransactionDeferred)
            throw new InvalidOperationException("Held writes are sent inside their unit of work's transaction.");
        var batch = new NpgsqlBatch((NpgsqlConnection)db.Database.GetDbConnection(), transaction);
        for (var i = 0; i < _commands.Count; i++)
        {
            // With no transaction the batch commits as it ends, so a row that must change must be checked inside it:
            // lien_one_row raises a serialization failure (the unit is redone) and nothing of the batch is kept.
            if (transaction is null && _mustMatchOne[i] is not null)
            {
                _commands[i].CommandText = $"WITH changed AS ({_commands[i].CommandText} RETURNING 1) SELECT lien_one_row(count(*)) FROM changed";
                _mustMatchOne[i] = null;
            }
            batch.BatchCommands.Add(_commands[i]);
        }
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
