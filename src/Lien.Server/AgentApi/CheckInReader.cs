using Lien.Protocol;
using Lien.Server.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Lien.Server.AgentApi;

internal enum DeviceRefusal { None, Unknown, Expired, RateLimited }

/// <summary>
/// A device request's authentication: <see cref="Row"/> (and <see cref="Id"/>, the token's <see cref="ExpiresUnix"/>)
/// when it holds, else the <see cref="Refusal"/> to answer with <see cref="Problem"/>.
/// </summary>
internal readonly record struct DeviceAuth(DeviceRefusal Refusal, Guid Id = default, CheckInRow? Row = null, long ExpiresUnix = 0, TimeSpan RetryAfter = default)
{
    public Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Problem(HttpResponse response) => Refusal switch
    {
        DeviceRefusal.Expired => DeviceTokens.Expired(response.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow()),
        DeviceRefusal.RateLimited => RateLimits.TooMany(response, RetryAfter),
        _ => DeviceTokens.Unauthorized(),
    };
}

/// <summary>What the device endpoints read of a device: <see cref="WrongCodes"/> so that a check-in writes its report only when it changed.</summary>
internal sealed record CheckInRow(int TokenEpoch, long LeaseSeq, string LeaseJws, LeaseMode LeaseMode, DateTimeOffset? LeaseUnlockedUntil, long AppliedSeq, string KeySetJson,
    Guid LenderId, int WrongCodes = 0);

/// <summary>
/// The check-in's one read: the device's lease and its lender's key-set statement. On SQLite it bypasses EF — every fleet
/// device checks in, so this is the server's hottest statement — and runs on <see cref="SqliteReadThreads"/>, a few
/// threads of its own with one prepared statement each, so a request never blocks a thread-pool thread on SQLite. On
/// PostgreSQL a compiled EF query.
/// </summary>
internal sealed class CheckInReader(DeviceTokens tokens, RateLimits limits) : IDisposable
{
    private SqliteReadThreads? _sqlite;

    /// <summary>
    /// The device an <c>Authorization: Device {token}</c> header names, with its row, when the token is genuine, unexpired
    /// and from the device's current enrollment, and the device is within its rate limit; otherwise why not. Every device
    /// endpoint authenticates through this. Neither a forged token nor an expired one costs a database read.
    /// </summary>
    public async ValueTask<DeviceAuth> AuthenticateAsync(IServiceProvider services, string authorization, CancellationToken ct)
    {
        switch (tokens.ReadHeader(authorization, out var deviceId, out var epoch, out var expires))
        {
            case TokenCheck.Malformed: return new DeviceAuth(DeviceRefusal.Unknown);
            case TokenCheck.Expired: return new DeviceAuth(DeviceRefusal.Expired);
        }
        // Counted only for a genuine token: nobody can spend another device's allowance.
        if (!limits.TryAcquire(RateLimitPolicy.DevicePerDevice, deviceId, out var retryAfter)) return new DeviceAuth(DeviceRefusal.RateLimited, RetryAfter: retryAfter);
        return await ReadAsync(services, deviceId, ct) is { } row && row.TokenEpoch == epoch
            ? new DeviceAuth(DeviceRefusal.None, deviceId, row, expires)
            : new DeviceAuth(DeviceRefusal.Unknown);
    }

    /// <summary>
    /// The device's row. <paramref name="services"/> (the request's, or a scope's) give a <see cref="LienDb"/> only while
    /// needed: on SQLite, once the reader threads run, a device request rents no database context at all.
    /// </summary>
    public ValueTask<CheckInRow?> ReadAsync(IServiceProvider services, Guid deviceId, CancellationToken ct) =>
        Volatile.Read(ref _sqlite) is { } threads ? threads.ReadAsync(deviceId) : ReadAsync(services.GetRequiredService<LienDb>(), deviceId, ct);

    private ValueTask<CheckInRow?> ReadAsync(LienDb db, Guid deviceId, CancellationToken ct) => db switch
    {
        SqliteLienDb sqlite => Threads(sqlite).ReadAsync(deviceId),
        PostgresLienDb postgres => new ValueTask<CheckInRow?>(CheckInQuery<PostgresLienDb>.Run(postgres, deviceId, ct)),
        _ => throw new NotSupportedException($"No check-in read for {db.GetType().Name}."),
    };

    // Started by the first read, which knows the database: a server on PostgreSQL never starts them.
    private SqliteReadThreads Threads(SqliteLienDb db)
    {
        if (Volatile.Read(ref _sqlite) is { } started) return started;
        var threads = new SqliteReadThreads(SqliteDirect.ConnectionString(db), Math.Clamp(Environment.ProcessorCount, 1, 4));
        if (Interlocked.CompareExchange(ref _sqlite, threads, null) is { } other)
        {
            threads.Dispose();
            return other;
        }
        return threads;
    }

    public void Dispose() => _sqlite?.Dispose();

    // The compiled query for PostgreSQL: the hot path skips LINQ translation entirely.
    private static class CheckInQuery<TDb> where TDb : LienDb
    {
        public static readonly Func<TDb, Guid, CancellationToken, Task<CheckInRow?>> Run = EF.CompileAsyncQuery((TDb db, Guid id, CancellationToken ct) =>
            db.Devices.Where(d => d.Id == id)
                .Join(db.Lenders, d => d.LenderId, l => l.Id, (d, l) => new CheckInRow(d.TokenEpoch, d.LeaseSeq, d.LeaseJws, d.LeaseMode, d.LeaseUnlockedUntil, d.AppliedSeq, l.KeySetJson, d.LenderId, d.WrongCodes))
                .FirstOrDefault());
    }
}

/// <summary>What the device API's direct SQLite connections share with <see cref="SqliteLienDb"/>.</summary>
internal static class SqliteDirect
{
    private static readonly DateTimeOffsetToBinaryConverter Converter = new();

    // The encoding of instants SqliteLienDb declares, so the two can never disagree.
    public static readonly Func<long, DateTimeOffset> Instant = Converter.ConvertFromProviderExpression.Compile();
    public static readonly Func<DateTimeOffset, long> Stored = Converter.ConvertToProviderExpression.Compile();

    /// <summary>
    /// The database's connection string, unpooled: these connections carry pragmas of their own and must never be
    /// handed to EF by the driver's pool.
    /// </summary>
    public static string ConnectionString(SqliteLienDb db) =>
        new SqliteConnectionStringBuilder(db.Database.GetConnectionString()) { Pooling = false }.ToString();
}
