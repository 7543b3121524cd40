namespace Lien.Server.Tests;

/// <summary>The database schema: the migrations of each provider match the model, on SQLite and on PostgreSQL (see the derived classes).</summary>
public abstract class SchemaTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    [Fact]
    public async Task Schema_Migrations_MatchTheModel()
    {
        await Server.NewLenderAsync(); // skips when the store is not configured
        Assert.False(await Server.WithDbAsync(db => Task.FromResult(Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.HasPendingModelChanges(db.Database))),
            "The model has changed since the last migration: run scripts/add-migration.sh NAME.");
    }
}

public sealed class SqliteSchemaTests(SqliteServer server) : SchemaTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresSchemaTests(PostgresServer server) : SchemaTests(server), IClassFixture<PostgresServer>;
