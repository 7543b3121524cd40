using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Lien.Server.Storage;

internal static class Transactions
{
    private const int Attempts = 8;

    /// <summary>
    /// Takes the SQLite file's writer for a write outside <see cref="InTransactionAsync{T}"/> (see <see cref="SqliteWriter"/>);
    /// a no-op on PostgreSQL, which needs no gate. <paramref name="ahead"/>: served before those already waiting.
    /// </summary>
    public static async Task<IDisposable> WriteGateAsync(this LienDb db, CancellationToken ct = default, bool ahead = false) =>
        db.IsSqlite ? await SqliteWriter.Of(db).EnterAsync(ct, ahead) : NoGate.Instance;

    private sealed class NoGate : IDisposable
    {
        public static readonly NoGate Instance = new();
        public void Dispose() { }
    }

    /// <summary>
    /// Runs <paramref name="work"/> and saves it in one transaction. When another writer got there first
    /// (a unique key, a plan's version, a serialization failure), everything is read again and redone, so
    /// the loser sees the winner's row: that is how a payment posted twice at once is recorded once.
    /// </summary>
    /// <param name="db">The context the unit reads and writes through.</param>
    /// <param name="work">The unit: its reads, decisions and writes; redone from the start after a conflict.</param>
    /// <param name="ct">Cancels the unit (nothing of it is kept unless it committed).</param>
    /// <param name="deferTransaction">
    /// PostgreSQL: the first attempt begins no transaction until one is needed (<see cref="PostgresWrites.TransactionDeferred"/>),
    /// so a unit that reads, then writes only rows held for its save, is its reads and one batch — no BEGIN, no COMMIT.
    /// Only for a unit whose reads need no lock (no <c>FOR UPDATE</c>): a lock taken outside a transaction ends with its
    /// statement. A redo always runs in a transaction, begun at once. SQLite ignores it (its units share the writer's).
    /// </param>
    public static async Task<T> InTransactionAsync<T>(this LienDb db, Func<Task<T>> work, CancellationToken ct = default, bool deferTransaction = false)
    {
        if (db.IsSqlite) return await SqliteWriter.Of(db).RunAsync(db, work, Attempts, ct);
        // A failed save rolls the whole transaction back and redoes it, so EF's savepoint around each save (two more
        // statements per save) would never be rolled back to.
        db.Database.AutoSavepointsEnabled = false;
        try
        {
            return await RunAsync(db, work, deferTransaction, ct);
        }
        finally
        {
            db.Database.AutoSavepointsEnabled = true;
            db.PostgresWrites.Clear(); // a unit that failed leaves nothing for the context's next user to send
        }
    }

    private static async Task<T> RunAsync<T>(LienDb db, Func<Task<T>> work, bool deferTransaction, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            db.DiscardAfterCommit();
            db.Redoing = attempt > 1;
            var deferred = deferTransaction && attempt == 1;
            if (deferred)
            {
                await db.Database.OpenConnectionAsync(ct); // one connection for the unit's statements, as a transaction would hold
                db.PostgresWrites.TransactionDeferred = true;
            }
            else await db.Database.BeginTransactionAsync(ct);
            try
            {
                var result = await work();
                // The unit's held writes and its updates in one round trip when nothing else is to be saved; otherwise
                // EF's save, with the held new rows handed back to it (or, if that cannot be, sent first by the save).
                if (!await RawUpdates.TrySaveAsync(db, ct))
                {
                    db.PostgresWrites.TrackInstead(db);
                    await db.SaveChangesAsync(ct);
                }
                // None open: a deferred unit whose writes (if any) went as one batch, committed as it ended.
                if (db.Database.CurrentTransaction is { } open) await open.CommitAsync(ct);
                db.RunAfterCommit();
                return result;
            }
            catch (Exception e) when (attempt < Attempts && IsConflict(e))
            {
                if (db.Database.CurrentTransaction is { } open) await open.RollbackAsync(ct);
                db.ChangeTracker.Clear();
                db.DiscardAfterCommit();
                await Task.Delay(Random.Shared.Next(1, 5 * attempt), ct);
            }
            finally
            {
                // Rolls back what did not commit (a failure that is not a conflict), as disposing a transaction does.
                if (db.Database.CurrentTransaction is { } left) await left.DisposeAsync();
                if (deferred)
                {
                    db.PostgresWrites.TransactionDeferred = false;
                    await db.Database.CloseConnectionAsync();
                }
            }
        }
    }

    /// <summary>
    /// Takes the lender's write lock at the start of a unit of work that is being redone after a conflict (PostgreSQL:
    /// <c>SELECT … FOR UPDATE</c> on the lender's row; SQLite: nothing, its writers already take turns). A first attempt
    /// takes no lock at all, so a lender's writers never queue; the units that lost a race — many payments of one plan
    /// at once, say — redo one after another instead of racing one another again until their attempts run out.
    /// </summary>
    public static async Task LockLenderIfRedoingAsync(this LienDb db, Guid lenderId, CancellationToken ct = default)
    {
        if (!db.Redoing || db.IsSqlite || db.Database.CurrentTransaction is null || !db.LockedLenders.Add(lenderId)) return;
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM \"Lenders\" WHERE \"Id\" = {lenderId} FOR UPDATE", ct);
    }

    public static bool IsConflict(Exception e) => e switch
    {
        DbUpdateConcurrencyException => true,
        DbUpdateException { InnerException: { } inner } => IsConflict(inner),
        // Npgsql's execution strategy wraps what it deems transient (a deadlock, a serialization failure) in this.
        InvalidOperationException { InnerException: { } inner } => IsConflict(inner),
        // 2067 unique, 1555 primary key; 5 busy, 6 locked.
        SqliteException s => s.SqliteExtendedErrorCode is 2067 or 1555 || s.SqliteErrorCode is 5 or 6,
        PostgresException p => p.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected,
        _ => false,
    };

    public static bool IsUniqueViolation(Exception e) => e switch
    {
        DbUpdateException { InnerException: { } inner } => IsUniqueViolation(inner),
        SqliteException s => s.SqliteExtendedErrorCode is 2067 or 1555,
        PostgresException p => p.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}
