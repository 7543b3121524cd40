using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;

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
                services.AddDbContextPool<SqliteLienDb>(o => o.UseSqlite(cs).AddInterceptors(pragmas));
                ReserveThreads(config);
                services.AddHostedService<SqliteCheckpointer>();
                services.AddScoped<LienDb>(sp => sp.GetRequiredService<SqliteLienDb>());
                break;
            case "postgres":
                var pg = config.GetConnectionString("Lien")
                         ?? throw new InvalidOperationException("Database:Provider is postgres but ConnectionStrings:Lien is not set.");
                services.AddSingleton(new DataFolder(dataDir, null));
                services.AddDbContextPool<PostgresLienDb>(o => o.UseNpgsql(pg));
                services.AddScoped<LienDb>(sp => sp.GetRequiredService<PostgresLienDb>());
                break;
            default:
                throw new InvalidOperationException($"Database:Provider '{provider}' is not supported; use sqlite or postgres.");
        }
        // Made when first needed, at start: nothing is written while the host is only being built.
        services.AddSingleton(sp => new SecretBox(MasterKey(config, sp.GetRequiredService<DataFolder>())));
        return services;
    }

    /// <summary>
    /// SQLite calls are synchronous: each one in flight holds a thread-pool thread, which would otherwise start from as
    /// many threads as cores and, after a lull, add one only every half second while requests queue (a second or more of
    /// added latency when payments resume). <c>Lien:Sqlite:MinThreads</c> (default 16) threads are kept ready instead.
    /// </summary>
    private static void ReserveThreads(IConfiguration config)
    {
        var wanted = config.GetValue("Lien:Sqlite:MinThreads", 16);
        if (wanted is < 1 or > 1024) throw new InvalidOperationException($"Lien:Sqlite:MinThreads {wanted} must be between 1 and 1024.");
        ThreadPool.GetMinThreads(out var workers, out var io);
        if (workers < wanted) ThreadPool.SetMinThreads(wanted, io);
    }

    /// <summary>Secures the data folder, then creates or migrates the schema. Runs before the server takes requests.</summary>
    public static async Task MigrateStorageAsync(this IServiceProvider services)
    {
        services.GetRequiredService<DataFolder>().Secure(services.GetRequiredService<ILoggerFactory>().CreateLogger<DataFolder>());
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
