using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Lien.Server.Storage;

internal static class Transactions
{
    private const int Attempts = 8;

    /// <summary>
    /// Runs <paramref name="work"/> and saves it in one transaction. When another writer got there first
    /// (a unique key, a plan's version, a serialization failure), everything is read again and redone, so
    /// the loser sees the winner's row: that is how a payment posted twice at once is recorded once.
    /// </summary>
    public static async Task<T> InTransactionAsync<T>(this LienDb db, Func<Task<T>> work, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            db.DiscardAfterCommit();
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            try
            {
                var result = await work();
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
                db.RunAfterCommit();
                return result;
            }
            catch (Exception e) when (attempt < Attempts && IsConflict(e))
            {
                await tx.RollbackAsync(ct);
                db.ChangeTracker.Clear();
                db.DiscardAfterCommit();
                await Task.Delay(Random.Shared.Next(1, 5 * attempt), ct);
            }
        }
    }

    public static bool IsConflict(Exception e) => e switch
    {
        DbUpdateConcurrencyException => true,
        DbUpdateException { InnerException: { } inner } => IsConflict(inner),
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
