using System.Security.Cryptography;
using Lien.Server.Api;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace Lien.Server.Storage;

internal static class StorageExtensions
{
    /// <summary>
    /// One setting picks the provider: <c>Database:Provider</c> = <c>sqlite</c> (default, a file under <c>Lien:DataDir</c>)
    /// or <c>postgres</c> with <c>ConnectionStrings:Lien</c>.
    /// </summary>
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration config, IHostEnvironment env)
    {
        var provider = config["Database:Provider"] ?? "sqlite";
        var dataDir = Path.GetFullPath(config["Lien:DataDir"] ?? Path.Combine(env.ContentRootPath, "data"));
        switch (provider)
        {
            case "sqlite":
                var cs = config.GetConnectionString("Lien");
                if (string.IsNullOrEmpty(cs)) cs = $"Data Source={Path.Combine(dataDir, "lien.db")};Default Timeout=30";
                services.AddSingleton(new DataFolder(dataDir, DataFolder.DatabaseFile(cs)));
                var pragmas = new SqlitePragmas(SqlitePragmas.Validate(config["Lien:Sqlite:Synchronous"]));
                var writer = new SqliteWriter(cs, pragmas);
                services.AddSingleton(sp => // made by a factory, so the container disposes it (and its connection) at the end
                {
                    writer.Metrics = new WriterMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
                    return writer;
                });
                services.AddDbContextPool<SqliteLienDb>(o => QuietConflicts(o.UseSqlite(cs).AddInterceptors(pragmas, writer)));
                ReserveThreads(config);
                services.AddHostedService<SqliteCheckpointer>();
                services.AddScoped<LienDb>(sp => sp.GetRequiredService<SqliteLienDb>());
                break;
            case "postgres":
                var pg = config.GetConnectionString("Lien")
                         ?? throw new InvalidOperationException("Database:Provider is postgres but ConnectionStrings:Lien is not set.");
                services.AddSingleton(new DataFolder(dataDir, null));
                services.AddDbContextPool<PostgresLienDb>(o => QuietConflicts(o.UseNpgsql(BoundedPool(pg, config)).AddInterceptors(PostgresFlusher)));
                services.AddScoped<LienDb>(sp => sp.GetRequiredService<PostgresLienDb>());
                break;
            default:
                throw new InvalidOperationException($"Database:Provider '{provider}' is not supported; use sqlite or postgres.");
        }
        // Made when first needed, at start: nothing is written while the host is only being built.
        services.AddSingleton(sp => new SecretBox(MasterKey(config, sp.GetRequiredService<DataFolder>())));
        services.AddExceptionHandler<DatabaseBusy>();
        return services;
    }

    private static readonly PostgresWrites.Flusher PostgresFlusher = new();

    /// <summary>
    /// A failed statement or save is not logged as an error by EF: a conflict is redone by <see cref="Transactions"/>
    /// (not an error at all), and a real fault reaches the exception handler, which logs it once, with its request.
    /// </summary>
    private static DbContextOptionsBuilder QuietConflicts(DbContextOptionsBuilder options) => options.ConfigureWarnings(w => w.Log(
        (CoreEventId.SaveChangesFailed, LogLevel.Debug),
        (CoreEventId.OptimisticConcurrencyException, LogLevel.Debug),
        (RelationalEventId.CommandError, LogLevel.Debug),
        (RelationalEventId.TransactionError, LogLevel.Debug)));

    /// <summary>
    /// Each node's pool is bounded (<c>Lien:Postgres:MaxPoolSize</c>, default 40, unless the connection string says
    /// otherwise) below PostgreSQL's <c>max_connections</c> (100 by default), so a burst waits for a pooled connection
    /// instead of being refused by the server ("too many clients"); one that waits too long is a 503, not a 500.
    /// Statements are prepared automatically (<c>Max Auto Prepare</c> 64) and a connection is not reset when it goes back
    /// to the pool (<c>No Reset On Close</c>) unless the connection string says otherwise.
    /// </summary>
    private static string BoundedPool(string connectionString, IConfiguration config)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Maximum Pool Size", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("Max Pool Size", StringComparison.OrdinalIgnoreCase))
            b.MaxPoolSize = config.GetValue("Lien:Postgres:MaxPoolSize", 40);
        // The hot paths run the same few statements over and over: prepared on the server after a few uses, PostgreSQL
        // parses and plans each once per connection instead of once per run.
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase)) b.MaxAutoPrepare = 64;
        // A pooled connection is reset (RESET ALL, UNLISTEN *, advisory unlock, DISCARD …) each time it is taken again;
        // Lien leaves no session state on a pooled connection (its locks are transaction-scoped, its LISTENs are on
        // connections of their own), so the reset is work for the database with nothing to undo.
        if (!connectionString.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase)) b.NoResetOnClose = true;
        return b.ConnectionString;
    }

    /// <summary>
    /// SQLite calls are synchronous: one run on a thread-pool thread holds it for the whole call, and the pool, which
    /// starts from one thread per core, adds one only every half second when all are held. The device API's reads run on
    /// threads of their own (<c>AgentApi/SqliteReadThreads</c>), but the payment path's EF work on SQLite still holds
    /// pool threads: without a reserve, payments after a lull stalled 1-3 s again (the latency bench's first seconds, two
    /// runs of four). So up to <c>Lien:Sqlite:MinThreads</c> (default 16, 1 to 1024) threads may run before the pool
    /// waits. While check-in reads ran on the pool the reserve cost a third of their rate on two cores; with the reads
    /// on their own threads it no longer measurably does.
    /// </summary>
    private static void ReserveThreads(IConfiguration config)
    {
        var wanted = MinThreads.Value(config) ?? MinThreads.Default; // a bad value is refused at start by ThreadsProblem
        ThreadPool.GetMinThreads(out var workers, out var io);
        if (workers < wanted) ThreadPool.SetMinThreads(wanted, io);
    }

    private static readonly WholeNumberSetting MinThreads = new("Lien:Sqlite:MinThreads", 1, 1024, 16);

    /// <summary>What is wrong with <c>Lien:Sqlite:MinThreads</c>, in one sentence, or null: the server does not start with it.</summary>
    public static string? ThreadsProblem(IConfiguration config) => MinThreads.Problem(config);

    /// <summary>Secures the data folder, then creates or migrates the schema. Runs before the server takes requests.</summary>
    public static async Task MigrateStorageAsync(this IServiceProvider services)
    {
        services.GetRequiredService<DataFolder>().Secure(services.GetRequiredService<ILoggerFactory>().CreateLogger<DataFolder>());
        _ = services.GetService<SqliteWriter>(); // made now, so its load is counted from the first write
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        if (db.IsSqlite)
            // WAL lets check-ins read while a payment writes; it is a property of the file, so set once.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
        await db.Database.MigrateAsync();
    }

    // The master key seals every secret at rest. Production sets Lien:MasterKey (base64, 32 bytes), the same on
    // every node; a single-node install without one gets a key file in its data folder, readable by its owner only.
    private static byte[] MasterKey(IConfiguration config, DataFolder folder)
    {
        if (config["Lien:MasterKey"] is { Length: > 0 } configured)
        {
            var key = Convert.FromBase64String(configured);
            return key.Length == 32 ? key : throw new InvalidOperationException("Lien:MasterKey must be 32 bytes, base64.");
        }
        var path = folder.File(DataFolder.MasterKeyFile);
        if (!File.Exists(path)) folder.WriteNew(DataFolder.MasterKeyFile, RandomNumberGenerator.GetBytes(32));
        var stored = File.ReadAllBytes(path);
        return stored.Length == 32 ? stored : throw new InvalidOperationException($"{path} must hold 32 bytes; it holds {stored.Length}.");
    }
}
