using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Lien.Server.Storage;

/// <summary>
/// The one writer of a SQLite file, with group commit. SQLite takes one writer at a time and makes the others poll
/// (Microsoft.Data.Sqlite sleeps 150 ms between tries), so one node's writers take turns here instead, in order, and
/// never meet a busy database (<see cref="WriterTurns"/>: the next unit's code runs on the turn thread as soon as the one
/// before leaves, so queued units run back to back). Units of work (<see cref="Transactions.InTransactionAsync{T}"/>) run one after another on
/// one connection inside one open transaction, each in a savepoint of its own (a unit that fails or conflicts is rolled
/// back to it, alone); when no other unit is waiting, or <see cref="MaxBatch"/> have run, the transaction commits and
/// every unit in it is answered. A unit is answered only after the commit that holds it, so nothing acknowledged can be
/// lost, and the writer never idles while requests wait: the next unit starts while the ones before it are still being
/// answered. A writer that needs the file to itself (<see cref="EnterAsync"/>) first commits what is open. Its statements
/// are prepared once and kept (<see cref="SqliteStatements"/>): the commands EF runs on its connection are intercepted
/// and run on the kept ones. New rows of the hot paths go in at once (<see cref="RawInsert"/>), and a unit whose only
/// changes are updates is written by <see cref="RawUpdates"/> rather than EF's save.
/// </summary>
internal sealed class SqliteWriter(string connectionString, SqlitePragmas pragmas) : IDbCommandInterceptor, IDisposable
{
    /// <summary>The most units one transaction holds; a long queue is committed in slices so none waits long.</summary>
    public const int MaxBatch = 16;

    private readonly WriterTurns _gate = new();

    /// <summary>Where the writer's load is counted (<see cref="WriterMetrics"/>); set once the host's meters exist.</summary>
    public WriterMetrics? Metrics
    {
        get => _gate.Metrics;
        set => _gate.Metrics = value;
    }

    private int _waiting; // units queued for the gate, which the unit before them leaves the transaction open for
    private SqliteConnection? _connection;
    private SqliteTransaction? _transaction;
    private Batch? _batch;
    private long _commits;
    private readonly SqliteStatements _statements = new();

    /// <summary>Transactions committed so far: fewer than the units of work they held when writers queue.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Units of work queued for the writer now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Whether anyone (a unit of work or a writer of its own) waits for the file now: the holder should let go soon.</summary>
    public bool Contended => Waiting > 0 || _gate.HasWaiters;

    /// <summary>The transaction units of work share: answered when it commits (or fails).</summary>
    internal sealed class Batch
    {
        public readonly TaskCompletionSource Committed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Units;
    }

    /// <summary>The writer of <paramref name="db"/>'s file (it travels in the context's options).</summary>
    public static SqliteWriter Of(LienDb db) =>
        db.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.Interceptors?.OfType<SqliteWriter>().FirstOrDefault()
        ?? throw new InvalidOperationException("This SQLite context was configured without its writer.");

    /// <summary>
    /// Runs <paramref name="work"/> as one unit of work in the open transaction and returns once the transaction that
    /// holds it has committed: redone from the start when another writer's row conflicts with it (a unique key, a
    /// version), or when the transaction it joined failed because of another unit.
    /// </summary>
    public async Task<T> RunAsync<T>(LienDb db, Func<Task<T>> work, int attempts, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            db.DiscardAfterCommit();
            db.Redoing = attempt > 1;
            Batch batch;
            T result;
            try
            {
                (batch, result) = await RunInBatchAsync(db, work, attempts, ct);
            }
            finally
            {
                // The turn thread is for the next unit: what follows (an answer, or a failure's handling) is the caller's own.
                await WriterTurns.OffTheTurnThreadAsync();
            }
            try
            {
                await batch.Committed.Task;
            }
            catch (BatchFailedException) when (attempt < attempts)
            {
                db.ChangeTracker.Clear();
                continue; // another unit broke the transaction this one was in; nothing of this one was kept
            }
            db.RunAfterCommit();
            return result;
        }
    }

    private async Task<(Batch, T)> RunInBatchAsync<T>(LienDb db, Func<Task<T>> work, int attempts, CancellationToken ct)
    {
        await WaitForTurnAsync(ct);
        try
        {
            var (connection, transaction, batch) = Open();
            var original = db.Database.GetConnectionString();
            db.Database.SetDbConnection(connection, contextOwnsConnection: false);
            await db.Database.UseTransactionAsync(transaction, ct);
            db.Database.AutoSavepointsEnabled = false; // the unit's own savepoint is the one to roll back to
            try
            {
                for (var conflicts = 1; ; conflicts++)
                {
                    _statements.Run(connection, transaction, "SAVEPOINT unit;");
                    try
                    {
                        var result = await work();
                        if (!await RawUpdates.TrySaveAsync(db, ct)) await db.SaveChangesAsync(ct);
                        _statements.Run(connection, transaction, "RELEASE SAVEPOINT unit;");
                        batch.Units++;
                        return (batch, result);
                    }
                    catch (Exception e)
                    {
                        if (!RolledBackAlone(transaction))
                        {
                            Fail(e); // the transaction itself is broken: the units before this one are redone by their callers
                            throw;
                        }
                        if (conflicts >= attempts || !Transactions.IsConflict(e)) throw;
                        db.ChangeTracker.Clear();
                        db.DiscardAfterCommit();
                        db.Redoing = true;
                    }
                }
            }
            finally
            {
                db.Database.AutoSavepointsEnabled = true;
                await db.Database.UseTransactionAsync(null, CancellationToken.None);
                db.Database.SetDbConnection(null, contextOwnsConnection: true);
                db.Database.SetConnectionString(original);
            }
        }
        finally
        {
            if (_batch is not null && (Volatile.Read(ref _waiting) == 0 || _batch.Units >= MaxBatch)) Commit();
            _gate.Leave();
        }
    }

    /// <summary>Rolls the open transaction back to the unit's savepoint; false when that is no longer possible.</summary>
    private static bool RolledBackAlone(SqliteTransaction transaction)
    {
        try
        {
            transaction.Rollback("unit");
            transaction.Release("unit");
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    /// <summary>Waits for the writer; a unit that gives up waiting commits what the unit before it left open for it.</summary>
    private async Task WaitForTurnAsync(CancellationToken ct)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await _gate.WaitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            if (Interlocked.Decrement(ref _waiting) == 0) await CommitOpenAsync();
            throw;
        }
        Interlocked.Decrement(ref _waiting);
    }

    private async Task CommitOpenAsync()
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            if (_batch is not null && Volatile.Read(ref _waiting) == 0) Commit();
        }
        finally
        {
            _gate.Leave();
        }
        await WriterTurns.OffTheTurnThreadAsync();
    }

    /// <summary>
    /// Takes the file for a write of its own (on another connection, outside any unit of work): what units left open is
    /// committed first. Dispose the result to let the next writer in. <paramref name="ahead"/>: before the units and writers
    /// already waiting (<see cref="WriterTurns.WaitAsync"/>).
    /// </summary>
    public async Task<IDisposable> EnterAsync(CancellationToken ct, bool ahead = false)
    {
        await _gate.WaitAsync(ct, ahead);
        try
        {
            // Its own write is not a unit of work: off the turn thread, so that thread is free to hand the next turn on.
            await WriterTurns.OffTheTurnThreadAsync();
            if (_batch is not null) Commit();
        }
        catch
        {
            _gate.Leave();
            throw;
        }
        return new Turn(_gate);
    }

    /// <summary>
    /// Commits what is open and closes the writer's connection (the next unit opens it again): for a tool that needs the
    /// file to itself, e.g. to change its journal mode, which SQLite allows only with no other connection open.
    /// </summary>
    public async Task CloseAsync(CancellationToken ct)
    {
        using var turn = await EnterAsync(ct);
        _statements.Clear();
        _connection?.Dispose();
        _connection = null;
    }

    private sealed class Turn(WriterTurns gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) gate.Leave();
        }
    }

    private (SqliteConnection, SqliteTransaction, Batch) Open()
    {
        if (_connection is null)
        {
            // Not from the pool, nor back to it when closed: its settings are the writer's alone.
            var connection = new SqliteConnection(new SqliteConnectionStringBuilder(connectionString) { Pooling = false }.ToString());
            connection.Open();
            pragmas.Apply(connection);
            // Each unit's savepoint journals the pages it changes; in memory, not in a temporary file. The page cache stays
            // SQLite's default (2 MB): every commit scans the whole cache (a b-tree split parks a page at the lock-byte
            // page's number, 262,145, so the truncation to the file's size at commit cannot take its short path), and
            // with a 64 MB cache that scan held the writer 0.41 ms a commit under the payments bench (a perf probe);
            // against the default, 5 alternated pairs had the p99 lower in each with the default.
            using (var command = connection.CreateCommand())
            {
                command.CommandText = "PRAGMA temp_store = MEMORY;";
                command.ExecuteNonQuery();
            }
            _connection = connection;
        }
        // IMMEDIATE: the write lock is taken now, so no statement of the batch meets a reader upgrading to a writer.
        _transaction ??= _connection.BeginTransaction(deferred: false);
        _batch ??= new Batch();
        return (_connection, _transaction, _batch);
    }

    private void Commit()
    {
        var batch = _batch!;
        try
        {
            _transaction!.Commit();
        }
        catch (Exception e)
        {
            Fail(e);
            return;
        }
        Reset();
        Interlocked.Increment(ref _commits);
        Metrics?.Committed(batch.Units);
        batch.Committed.SetResult();
    }

    private void Fail(Exception e)
    {
        var batch = _batch;
        try
        {
            _transaction?.Rollback();
        }
        catch (SqliteException)
        {
            // already rolled back by SQLite itself
        }
        Reset();
        // A broken connection is not reused.
        _statements.Clear();
        _connection?.Dispose();
        _connection = null;
        batch?.Committed.SetException(new BatchFailedException(e));
    }

    private void Reset()
    {
        _transaction?.Dispose();
        _transaction = null;
        _batch = null;
    }

    public void Dispose()
    {
        _transaction?.Dispose();
        _statements.Dispose();
        _connection?.Dispose();
        _gate.Dispose();
    }

    /// <summary>A command of a unit of work (on this writer's connection) run on its kept, prepared twin.</summary>
    internal SqliteDataReader? ExecuteKept(DbCommand command) => IsMine(command) ? _statements.ExecuteReader(command) : null;

    /// <summary>The same for a statement whose rows changed are its answer.</summary>
    internal int? ExecuteKeptNonQuery(DbCommand command) => IsMine(command) ? _statements.ExecuteNonQuery(command) : null;

    private bool IsMine(DbCommand command) => _connection is not null && ReferenceEquals(command.Connection, _connection);

    /// <summary>How many prepared statements the writer keeps (for tests).</summary>
    internal int KeptStatements => _statements.Count;

    /// <summary>The texts of the statements the writer keeps (for tests); read it with no unit of work running.</summary>
    internal IReadOnlyList<string> KeptTexts => _statements.Texts;

    // EF's commands on the writer's connection run on the kept statements; any other connection's run as they are.
    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result) =>
        !result.HasResult && ExecuteKept(command) is { } reader ? InterceptionResult<DbDataReader>.SuppressWithResult(reader) : result;

    public ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(ReaderExecuting(command, eventData, result));

    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result) =>
        !result.HasResult && ExecuteKeptNonQuery(command) is { } rows ? InterceptionResult<int>.SuppressWithResult(rows) : result;

    public ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result,
        CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(NonQueryExecuting(command, eventData, result));

    public InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        if (result.HasResult || ExecuteKept(command) is not { } reader) return result;
        using (reader)
            return InterceptionResult<object>.SuppressWithResult(reader.Read() ? reader.GetValue(0) : null!);
    }

    public ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result,
        CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(ScalarExecuting(command, eventData, result));
}

/// <summary>The shared transaction a unit of work was in did not commit; nothing of the unit was kept.</summary>
internal sealed class BatchFailedException(Exception cause)
    : Exception("The SQLite transaction this unit of work was in could not commit; nothing of it was kept.", cause);
