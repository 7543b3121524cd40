using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Lien.Server.Storage;

// Used only by `dotnet ef migrations add`: each provider's migrations are made from its own context type.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteLienDb>
{
    public SqliteLienDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteLienDb>().UseSqlite("Data Source=design.db").Options);
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresLienDb>
{
    public PostgresLienDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresLienDb>().UseNpgsql("Host=localhost;Database=lien_design").Options);
}
