using Lien.Server.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Lien.Server.Tests.Storage;

/// <summary>Which failures a unit of work redoes (another writer won a race) and which reach the exception handler.</summary>
public sealed class ConflictTests
{
    public static TheoryData<string, bool> Cases => new()
    {
        { "deadlock, wrapped by Npgsql's execution strategy as transient", true },
        { "deadlock in a failed save", true },
        { "serialization failure", true },
        { "unique violation", true },
        { "SQLite busy", true },
        { "concurrency token", true },
        { "not-null violation", false },
        { "an InvalidOperationException of our own", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void IsConflict_RedoesOnlyWhatAnotherWriterCaused(string what, bool conflict)
    {
        static PostgresException Pg(string state) => new("x", "ERROR", "ERROR", state);
        Exception e = what switch
        {
            "deadlock, wrapped by Npgsql's execution strategy as transient" => new InvalidOperationException("transient",
                new DbUpdateException("save", Pg(PostgresErrorCodes.DeadlockDetected))),
            "deadlock in a failed save" => new DbUpdateException("save", Pg(PostgresErrorCodes.DeadlockDetected)),
            "serialization failure" => new DbUpdateException("save", Pg(PostgresErrorCodes.SerializationFailure)),
            "unique violation" => new DbUpdateException("save", Pg(PostgresErrorCodes.UniqueViolation)),
            "SQLite busy" => new SqliteException("busy", 5),
            "concurrency token" => new DbUpdateConcurrencyException("changed"),
            "not-null violation" => new DbUpdateException("save", Pg(PostgresErrorCodes.NotNullViolation)),
            _ => new InvalidOperationException("a bug"),
        };
        Assert.Equal(conflict, Transactions.IsConflict(e));
    }
}
