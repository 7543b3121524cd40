using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Lien.Server.Lenders;
using Lien.Server.Scheduling;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Lien.TestSupport;

public enum Store { Sqlite, Postgres }

/// <summary>
/// The real server on Kestrel (loopback, a free port) over a real database: a fresh SQLite file, or a fresh PostgreSQL
/// database when LIEN_TEST_POSTGRES names a server. Time is a FakeTimeProvider the tests move, or, for the real-clock
/// fixtures, the system clock (a fake clock at whole seconds once hid a hash over sub-millisecond timestamps).
/// </summary>
public abstract class LienServer(Store store, bool realClock = false) : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string PostgresVariable = "LIEN_TEST_POSTGRES";
    public static readonly string? PostgresAdmin = Environment.GetEnvironmentVariable(PostgresVariable);

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "lien-tests-" + Guid.NewGuid().ToString("N"));
    private readonly string _pgDatabase = "lien_test_" + Guid.NewGuid().ToString("N");

    public Store Store { get; } = store;
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));

    /// <summary>The server's clock: <see cref="Time"/>, or the system clock for a real-clock fixture.</summary>
    public TimeProvider Clock => realClock ? TimeProvider.System : Time;

    /// <summary>Everything the server logged at Warning and above.</summary>
    public CapturedLogs Logs { get; } = new();

    /// <summary>Every notice the server's reviews decided, as a listener in the lease's transaction heard it.</summary>
    public NoticeRecorder Notices { get; } = new();

    /// <summary>The payment provider the server asks to collect payments (pay page, USSD): records each request; the test pays it.</summary>
    public PaymentRequestRecorder PaymentRequests { get; } = new();
    public string MasterKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    public bool Available => Store == Store.Sqlite || PostgresAdmin is not null;
    public string? PostgresConnection => PostgresAdmin is null ? null : new NpgsqlConnectionStringBuilder(PostgresAdmin) { Database = _pgDatabase }.ConnectionString;

    /// <summary>Runs one statement on the PostgreSQL server <see cref="PostgresVariable"/> names (CREATE and DROP of databases and roles).</summary>
    public static async Task PostgresAdminAsync(string sql)
    {
        await using var admin = new NpgsqlConnection(PostgresAdmin);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(sql, admin);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Today in the test lenders' time zone (Africa/Nairobi), by the server's clock.</summary>
    public DateOnly Today => Policy.LocalDate(Clock.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi"));

    public virtual async ValueTask InitializeAsync()
    {
        if (!Available) return;
        if (Store == Store.Postgres)
        {
            await PostgresAdminAsync($"CREATE DATABASE \"{_pgDatabase}\"");
        }
        UseKestrel(0);
        StartServer();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Lien:DataDir", _dataDir);
        builder.UseSetting("Lien:MasterKey", MasterKey);
        builder.UseSetting("Database:Provider", Store == Store.Sqlite ? "sqlite" : "postgres");
        if (Store == Store.Postgres) builder.UseSetting("ConnectionStrings:Lien", PostgresConnection);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Lien:WarmUp", "false"); // a test's server is new for one class: warming it would only slow the suite
        foreach (var (key, value) in ExtraSettings) builder.UseSetting(key, value);
        foreach (var (key, value) in TestAttestation.SettingsAsync().GetAwaiter().GetResult()) builder.UseSetting(key, value);
        builder.ConfigureTestServices(s =>
        {
            if (!realClock) s.AddSingleton<TimeProvider>(Time);
            s.AddSingleton<ILoggerProvider>(Logs);
            s.AddSingleton<Lien.Server.Leases.INoticeListener>(Notices);
            if (RecordsPaymentRequests) s.AddSingleton<Lien.Server.Payments.IPaymentRequests>(PaymentRequests);
        });
    }

    /// <summary>
    /// Whether requests to pay (the pay page's and USSD's "pay now") go to <see cref="PaymentRequests"/> instead of the
    /// server's own provider (M-Pesa); a fixture with a Daraja stand-in says no.
    /// </summary>
    protected virtual bool RecordsPaymentRequests => true;

    /// <summary>Configures another host exactly as this one (its database, data folder, keys and clock): a second server instance.</summary>
    public void ConfigureLike(IWebHostBuilder builder) => ConfigureWebHost(builder);

    /// <summary>Settings a fixture adds, e.g. the address of a local stand-in for an external service.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [];

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Store == Store.Postgres && PostgresAdmin is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await PostgresAdminAsync($"DROP DATABASE IF EXISTS \"{_pgDatabase}\" WITH (FORCE)");
        }
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>A new lender (tenant) and a client holding its admin key; <paramref name="enrollment"/> is its enrollment policy (attested, enrollment-token, open); <paramref name="settlementHoldHours"/> its own settlement hold (null: the profile's 72 h). Skips the test, visibly, when the store is not configured.</summary>
    public async Task<Tenant> NewLenderAsync(string name = "Test Lender", string currency = "KES", string zone = "Africa/Nairobi",
        string enrollment = "attested", int? settlementHoldHours = null)
    {
        if (!Available) Assert.Skip($"PostgreSQL tests need {PostgresVariable} (a connection string to a server whose user may create databases).");
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        var settings = new LenderSettings(name, "https://example.com/logo.png", "0800 723 000", "*483*7#", null, zone, currency, "standard", 72,
            EnrollmentPolicy: EnrollmentPolicies.FromCommandName(enrollment) ?? throw new ArgumentException(enrollment, nameof(enrollment)),
            SettlementHoldHours: settlementHoldHours);
        var (lender, token) = await db.InTransactionAsync(() => scope.ServiceProvider.GetRequiredService<LenderSetup>().CreateAsync(settings, "test"));
        return new Tenant(lender.Id, Client(token), token);
    }

    public HttpClient Client(string? token = null)
    {
        var c = CreateClient();
        if (token is not null) c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return c;
    }

    /// <summary>Runs the scheduled review now, as the background service would at this instant.</summary>
    public Task<int> ReviewAsync() => Services.GetRequiredService<ReviewService>().ReviewDueAsync(CancellationToken.None);

    /// <summary>
    /// Moves the fake clock from review instant to review instant (the earliest <c>nextReviewAt</c> of any active plan),
    /// reviewing at each, as the scheduler would, until <paramref name="until"/> (or <paramref name="stop"/> says so after a
    /// review); the clock ends at <paramref name="until"/> unless stopped. Returns how many reviews ran.
    /// </summary>
    public async Task<int> WalkAsync(DateTimeOffset until, Func<Task<bool>>? stop = null)
    {
        var total = 0;
        while (true)
        {
            var next = await WithDbAsync(db => db.Plans.AsNoTracking()
                .Where(p => p.Lifecycle == Lien.Server.Plans.PlanLifecycle.Active && p.NextReviewAt != null && p.NextReviewAt <= until)
                .OrderBy(p => p.NextReviewAt).Select(p => p.NextReviewAt).FirstOrDefaultAsync());
            if (next is null) break;
            if (next > Time.GetUtcNow()) Time.SetUtcNow(next.Value);
            total += await ReviewAsync();
            if (stop is not null && await stop()) return total;
        }
        if (until > Time.GetUtcNow()) Time.SetUtcNow(until);
        return total;
    }

    /// <summary>Walks the clock (at most 120 days) until <paramref name="deviceId"/> holds a Locked lease: every notice first, then the lock.</summary>
    public async Task WalkUntilLockedAsync(Guid deviceId)
    {
        var locked = () => WithDbAsync(db => db.Devices.AsNoTracking().AnyAsync(d => d.Id == deviceId && d.LeaseMode == Lien.Protocol.LeaseMode.Locked));
        if (await locked()) return;
        await WalkAsync(Time.GetUtcNow().AddDays(120), locked);
        if (!await locked()) throw new InvalidOperationException($"Device {deviceId} did not lock within 120 days.");
    }

    internal async Task<T> WithDbAsync<T>(Func<LienDb, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<LienDb>());
    }
}

public sealed class SqliteServer() : LienServer(Store.Sqlite);
public sealed class PostgresServer() : LienServer(Store.Postgres);
public sealed class SqliteRealClockServer() : LienServer(Store.Sqlite, realClock: true);
public sealed class PostgresRealClockServer() : LienServer(Store.Postgres, realClock: true);

public sealed record Tenant(Guid LenderId, HttpClient Admin, string Token)
{
    public async Task<HttpClient> KeyAsync(string role, LienServer server)
    {
        var r = await Admin.PostAsJsonAsync("/v1/api-keys", new { name = role + " key", role });
        r.EnsureSuccessStatusCode();
        var body = await r.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        return server.Client(body.GetProperty("token").GetString());
    }
}
