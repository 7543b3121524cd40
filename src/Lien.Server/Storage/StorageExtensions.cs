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
                if (string.IsNullOrEmpty(cs))
                {
                    Directory.CreateDirectory(dataDir);
                    cs = $"Data Source={Path.Combine(dataDir, "lien.db")};Default Timeout=30";
                }
                var pragmas = new SqlitePragmas(SqlitePragmas.Validate(config["Lien:Sqlite:Synchronous"]));
                services.AddDbContextPool<SqliteLienDb>(o => o.UseSqlite(cs).AddInterceptors(pragmas));
                ReserveThreads(config);
                services.AddHostedService<SqliteCheckpointer>();
                services.AddScoped<LienDb>(sp => sp.GetRequiredService<SqliteLienDb>());
                break;
            case "postgres":
                var pg = config.GetConnectionString("Lien")
                         ?? throw new InvalidOperationException("Database:Provider is postgres but ConnectionStrings:Lien is not set.");
                services.AddDbContextPool<PostgresLienDb>(o => o.UseNpgsql(pg));
                services.AddScoped<LienDb>(sp => sp.GetRequiredService<PostgresLienDb>());
                break;
            default:
                throw new InvalidOperationException($"Database:Provider '{provider}' is not supported; use sqlite or postgres.");
        }
        services.AddSingleton(new SecretBox(MasterKey(config, dataDir)));
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

    /// <summary>Creates or migrates the schema. Runs before the server takes requests.</summary>
    public static async Task MigrateStorageAsync(this IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        if (db.IsSqlite)
            // WAL lets check-ins read while a payment writes; it is a property of the file, so set once.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
        await db.Database.MigrateAsync();
    }

    // The master key seals every secret at rest. Production sets Lien:MasterKey (base64, 32 bytes), the same on
    // every node; a single-node install without one gets a key file beside its database, readable by its owner only.
    private static byte[] MasterKey(IConfiguration config, string dataDir)
    {
        if (config["Lien:MasterKey"] is { Length: > 0 } configured)
        {
            var key = Convert.FromBase64String(configured);
            return key.Length == 32 ? key : throw new InvalidOperationException("Lien:MasterKey must be 32 bytes, base64.");
        }
        Directory.CreateDirectory(dataDir);
        var path = Path.Combine(dataDir, "master.key");
        if (!File.Exists(path))
        {
            var fresh = RandomNumberGenerator.GetBytes(32);
            using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                stream.Write(fresh);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return File.ReadAllBytes(path);
    }
}
