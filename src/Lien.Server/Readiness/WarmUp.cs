using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Lien.Server.Readiness;

/// <summary>
/// Before the server listens, its hot paths run on a throwaway server of its own: the same services and routes
/// (<c>Program.Build</c>) on a fresh database under a key of its own, listening on a loopback port of its own. A few phones
/// enroll, open their streams, and each pays, receives its lease, acknowledges it and checks in, over real HTTP. What
/// carries over is only what the process shares: compiled code (the JIT's tiers and the PGO they gather) and EF Core's
/// compiled queries and model. No lender, device or row of the real database is read or written. A failed warm-up is
/// logged and the server starts anyway.
/// <para>
/// The fresh database is of the server's own kind, so that its provider's code is what gets compiled: a SQLite file in a
/// temporary folder (deleted after), or, for a server on PostgreSQL, a database of its own on the same PostgreSQL server,
/// created here and dropped after (its own database, so the throwaway's NOTIFYs and advisory locks reach no node of the
/// real one). A role that may not create databases warms up on SQLite instead, as every server did before: then Npgsql and
/// EF's PostgreSQL provider tier up under the first traffic (about a minute of slower payments on the machine of
/// docs/BENCHMARKS.md).
/// </para>
/// <para>
/// A warm-up killed before it could clean up (the process killed, the machine stopped) leaves its folder or database
/// behind. Their names carry the time they were made (a version 7 GUID), so each warm-up first removes the ones older
/// than <see cref="Stale"/>, which no live warm-up can own (its hard budget is a minute).
/// </para>
/// </summary>
internal static class WarmUp
{
    private const int Phones = 4;
    private const int CheckInsPerPayment = 4;
    // At least this many payments per phone, each method on the way called past the JIT's 30 calls per tier; then on
    // until the JIT has almost nothing left to compile, so the hot paths reach their last tier here, not under the
    // first borrowers (perf: without it a tenth of the first seconds' CPU went to tiering up).
    private const int MinPaymentsPerPhone = 40;
    private const int JitQuietRate = 20;
    // After the minimum the phones pause between rounds: the JIT compiles the next tiers on one background thread, and
    // phones going flat out took the two cores from it, so on a slow machine the soft budget ran out with the check-in
    // still at its first tier and the rest compiled under the first borrowers (docs/BENCHMARKS.md, the warm-up's A/B).
    private static readonly TimeSpan PaceAfterMinimum = TimeSpan.FromMilliseconds(50);
    // Long enough for a slow 2-core machine to reach a quiet JIT (about 25-30 s there; a fast one is quiet in about 10).
    private static readonly TimeSpan SoftBudget = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(60);

    /// <summary>What is wrong with <c>Lien:WarmUp</c> (true or false, default true), in one sentence, or null: the server does not start with it.</summary>
    public static string? SettingsProblem(IConfiguration config) => Enabled(config) is null ? $"Lien:WarmUp '{config[Setting]}' must be true or false." : null;

    private const string Setting = "Lien:WarmUp";

    // Read by hand rather than bound, so a bad value is named in one line (SettingsProblem) instead of a binder's stack trace.
    private static bool? Enabled(IConfiguration config) => config[Setting] is not { } value ? true : bool.TryParse(value, out var on) ? on : null;

    /// <summary>Runs the warm-up when <c>Lien:WarmUp</c> is on; <paramref name="buildThrowaway"/> makes a migrated, keyed server from settings.</summary>
    public static async Task RunAsync(WebApplication app, Func<IReadOnlyDictionary<string, string?>, Task<WebApplication>> buildThrowaway)
    {
        if (Enabled(app.Configuration) != true) return;
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(WarmUp));
        var time = app.Services.GetRequiredService<TimeProvider>();
        var started = time.GetTimestamp();
        log.LogInformation("Warming up before listening: the hot paths run on a throwaway database until the JIT is quiet (at most {Seconds:F0} s of them; Lien:WarmUp=false skips this).",
            SoftBudget.TotalSeconds);
        var folder = Path.Combine(Path.GetTempPath(), FolderPrefix + Guid.CreateVersion7(time.GetUtcNow()).ToString("N"));
        var postgres = app.Configuration["Database:Provider"] == "postgres" ? app.Configuration.GetConnectionString("Lien") : null;
        var postgresDatabase = DatabasePrefix + Guid.CreateVersion7(time.GetUtcNow()).ToString("N");
        var postgresCreated = false;
        try
        {
            using var budget = new CancellationTokenSource(Budget, time);
            RemoveStaleFolders(time.GetUtcNow(), log);
            if (postgres is not null) await DropStaleDatabasesAsync(postgres, time.GetUtcNow(), log, budget.Token);
            var settings = new Dictionary<string, string?>
            {
                ["Database:Provider"] = "sqlite",
                ["ConnectionStrings:Lien"] = "",
                ["Lien:DataDir"] = folder,
            };
            if (postgres is not null && await CreatePostgresAsync(postgres, postgresDatabase, log, budget.Token) is { } throwawayDatabase)
            {
                postgresCreated = true;
                settings["Database:Provider"] = "postgres";
                settings["ConnectionStrings:Lien"] = throwawayDatabase;
            }
            var payments = await RunThrowawayAsync(settings, buildThrowaway, time, budget.Token);
            log.LogInformation("Warmed up in {Seconds:F1} s on a throwaway {Store} database: {Payments} payments streamed, acknowledged and checked in.",
                time.GetElapsedTime(started).TotalSeconds, postgresCreated ? "PostgreSQL" : "SQLite", payments);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.LogWarning(e, "The warm-up failed after {Seconds:F1} s; the server starts without it (its first requests are slower).",
                time.GetElapsedTime(started).TotalSeconds);
        }
        finally
        {
            SqliteConnection.ClearAllPools(); // idle pooled connections only (the real database's reopen when used), so the folder can go
            if (postgresCreated) await DropPostgresAsync(postgres!, postgresDatabase, log);
            try
            {
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            }
            catch (IOException e)
            {
                log.LogWarning(e, "Could not delete the warm-up's folder {Folder}.", folder);
            }
        }
    }

    private const string FolderPrefix = "lien-warm-up-";
    private const string DatabasePrefix = "lien_warm_up_";

    /// <summary>How old a warm-up's folder or database must be to be a leftover: ten times the warm-up's hard budget.</summary>
    internal static readonly TimeSpan Stale = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Whether <paramref name="name"/> is a warm-up's folder or database (<paramref name="prefix"/> and a version 7 GUID) made
    /// more than <see cref="Stale"/> before <paramref name="now"/>. Names of any other shape, older warm-ups' among them
    /// (a random GUID, no time), are never taken for leftovers.
    /// </summary>
    internal static bool IsStale(string name, string prefix, DateTimeOffset now)
    {
        if (!name.StartsWith(prefix, StringComparison.Ordinal) || !Guid.TryParseExact(name.AsSpan(prefix.Length), "N", out var id) || id.Version != 7)
            return false;
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        var milliseconds = ((long)bytes[0] << 40) | ((long)bytes[1] << 32) | ((long)bytes[2] << 24) | ((long)bytes[3] << 16) | ((long)bytes[4] << 8) | bytes[5];
        return now - DateTimeOffset.FromUnixTimeMilliseconds(milliseconds) > Stale;
    }

    private static void RemoveStaleFolders(DateTimeOffset now, ILogger log)
    {
        string[] folders;
        try
        {
            folders = Directory.GetDirectories(Path.GetTempPath(), FolderPrefix + "*");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning(e, "Could not look for folders left by earlier warm-ups.");
            return;
        }
        foreach (var stale in folders.Where(d => IsStale(Path.GetFileName(d), FolderPrefix, now)))
        {
            try
            {
                Directory.Delete(stale, recursive: true);
                log.LogInformation("Removed {Folder}, left by a warm-up that was stopped before it could clean up.", stale);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogWarning(e, "Could not remove {Folder}, left by an earlier warm-up.", stale);
            }
        }
    }

    // Databases only this role may drop are dropped (another role's leftovers fail alone, logged); a server that cannot
    // list them or connect at all warms up as it would have anyway.
    private static async Task DropStaleDatabasesAsync(string connectionString, DateTimeOffset now, ILogger log, CancellationToken ct)
    {
        List<string> stale = [];
        try
        {
            await using var connection = await OpenUnpooledAsync(connectionString, ct);
            await using var list = new NpgsqlCommand(@"SELECT datname FROM pg_database WHERE datname LIKE 'lien\_warm\_up\_%'", connection);
            await using var reader = await list.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                if (reader.GetString(0) is var name && IsStale(name, DatabasePrefix, now)) stale.Add(name);
        }
        catch (NpgsqlException e)
        {
            log.LogWarning(e, "Could not look for databases left by earlier warm-ups.");
            return;
        }
        foreach (var name in stale)
            if (await DropPostgresAsync(connectionString, name, log))
                log.LogInformation("Dropped the database {Database}, left by a warm-up that was stopped before it could clean up.", name);
    }

    // The throwaway database on the real one's PostgreSQL server: its connection string, or null (logged) when the role may
    // not create databases or the server refuses for another reason — the warm-up then runs on SQLite.
    private static async Task<string?> CreatePostgresAsync(string connectionString, string database, ILogger log, CancellationToken ct)
    {
        try
        {
            await using var connection = await OpenUnpooledAsync(connectionString, ct);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
            await create.ExecuteNonQueryAsync(ct);
            return new NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString;
        }
        catch (PostgresException e)
        {
            log.LogInformation("The warm-up runs on SQLite: PostgreSQL did not create a throwaway database for it ({Reason}), so Npgsql and EF's " +
                "PostgreSQL provider are compiled under the first traffic instead. A role allowed to create databases (CREATEDB) warms those too.", e.MessageText);
            return null;
        }
    }

    // Dropped even while something still holds a connection to it (FORCE, PostgreSQL 13 and later; a plain DROP before).
    private static async Task<bool> DropPostgresAsync(string connectionString, string database, ILogger log)
    {
        NpgsqlConnection.ClearAllPools(); // idle pooled connections only: the throwaway's, and the real database's reopen when used
        try
        {
            await using var connection = await OpenUnpooledAsync(connectionString, CancellationToken.None);
            try
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
                await drop.ExecuteNonQueryAsync();
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.SyntaxError)
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\"", connection);
                await drop.ExecuteNonQueryAsync();
            }
            return true;
        }
        catch (NpgsqlException e)
        {
            log.LogWarning(e, "Could not drop the warm-up's PostgreSQL database {Database}; drop it by hand.", database);
            return false;
        }
    }

    // A connection of its own to the real database's PostgreSQL server, for CREATE and DROP DATABASE: none of the pool's.
    private static async Task<NpgsqlConnection> OpenUnpooledAsync(string connectionString, CancellationToken ct)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    // store: the throwaway's database settings (provider, connection string, data folder).
    private static async Task<int> RunThrowawayAsync(IReadOnlyDictionary<string, string?> store, Func<IReadOnlyDictionary<string, string?>, Task<WebApplication>> buildThrowaway, TimeProvider time, CancellationToken ct)
    {
        var settings = new Dictionary<string, string?>(store)
        {
            ["Lien:MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            [Setting] = "false",
            ["Lien:RateLimits:DevicePerDevice:Limit"] = "0", // off: each warm-up phone is busier than any real one
            ["urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        await using var throwaway = await buildThrowaway(settings);
        await throwaway.StartAsync(ct);
        try
        {
            string adminKey;
            await using (var scope = throwaway.Services.CreateAsyncScope())
            {
                var lenderSettings = new LenderSettings("Warm-up", null, null, null, null, "Africa/Nairobi", "KES", "standard", null,
                    EnrollmentPolicy: EnrollmentPolicy.Open);
                var db = scope.ServiceProvider.GetRequiredService<LienDb>();
                (_, adminKey) = await db.InTransactionAsync(() => scope.ServiceProvider.GetRequiredService<LenderSetup>().CreateAsync(lenderSettings, "warm-up", ct), ct);
            }
            using var http = new HttpClient { BaseAddress = new Uri(throwaway.Urls.First()), Timeout = Budget };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
            var imeis = Enumerable.Range(0, Phones).Select(i => Imei.WithCheckDigit(string.Create(CultureInfo.InvariantCulture, $"35999999{i:000000}"))).ToArray();
            var imported = await Json(await http.PostAsync("/v1/devices/import", new StringContent("imei\n" + string.Join('\n', imeis), Encoding.UTF8, "text/csv"), ct), ct);
            var deviceIds = imported.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("id").GetGuid()).ToArray();
            var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
            using var enough = new CancellationTokenSource();
            var phones = deviceIds.Zip(imeis).Select((device, i) => PhoneAsync(http, device.First, device.Second, i, today, time, enough.Token, ct)).ToArray();
            await UntilJitQuietAsync(time, ct);
            await enough.CancelAsync();
            return (await Task.WhenAll(phones)).Sum();
        }
        finally
        {
            await throwaway.StopAsync(CancellationToken.None);
        }
    }

    // One phone: a plan overdue (so every payment changes its lease), enrolled, streaming; then pay, receive, ack, check in.
    // The JIT has (nearly) nothing left to do for what the phones run: fewer than JitQuietRate methods compiled over the
    // last second (sampled every quarter second; EF Core alone makes thousands of methods, each compiled once per tier).
    // Or SoftBudget has passed: then the rest tiers up under real traffic, as it would have without the warm-up.
    private static async Task UntilJitQuietAsync(TimeProvider time, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        var window = new Queue<long>([System.Runtime.JitInfo.GetCompiledMethodCount()]);
        while (time.GetElapsedTime(started) < SoftBudget)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), time, ct);
            window.Enqueue(System.Runtime.JitInfo.GetCompiledMethodCount());
            if (window.Count > 5 && window.Dequeue() is var second && window.Last() - second < JitQuietRate) return;
        }
    }

    private static async Task<int> PhoneAsync(HttpClient http, Guid deviceId, string imei, int phone, DateOnly today, TimeProvider time, CancellationToken enough,
        CancellationToken ct)
    {
        var plan = await Json(await http.PostAsJsonAsync("/v1/plans", new
        {
            deviceId, price = 1_200_000, currency = "KES", generate = new { count = 12, frequency = "Monthly", firstDueDate = today.AddDays(-40) }, backdated = true,
        }, ct), ct);
        var planId = plan.GetProperty("id").GetGuid();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var challenge = await Json(await http.PostAsJsonAsync("/v1/device/enroll/challenge", new { }, ct), ct);
        var enrolled = await Json(await http.PostAsJsonAsync("/v1/device/enroll", EnrollmentProof.Sign([imei], key,
            challenge.GetProperty("serverTime").GetDateTimeOffset().ToUnixTimeSeconds(), EnrollmentProof.NewNonce(),
            challenge.GetProperty("challenge").GetString()!), LeaseClaims.Json, ct), ct);
        var device = new AuthenticationHeaderValue("Device", enrolled.GetProperty("deviceToken").GetString());
        var seq = enrolled.GetProperty("seq").GetInt64();

        using var open = new HttpRequestMessage(HttpMethod.Get, $"/v1/device/stream?appliedSeq={seq}") { Headers = { Authorization = device } };
        using var stream = await http.SendAsync(open, HttpCompletionOption.ResponseHeadersRead, ct);
        stream.EnsureSuccessStatusCode();
        using var lines = new StreamReader(await stream.Content.ReadAsStreamAsync(ct));
        var i = 0;
        for (; i < MinPaymentsPerPhone || !enough.IsCancellationRequested; i++)
        {
            if (i >= MinPaymentsPerPhone) await Task.Delay(PaceAfterMinimum, time, ct);
            (await http.PostAsJsonAsync("/v1/payments", new
            {
                planId, amount = 100, currency = "KES", provider = "warm-up", providerTransactionId = string.Create(CultureInfo.InvariantCulture, $"warm-up-{phone}-{i}"),
            }, ct)).EnsureSuccessStatusCode();
            while (await lines.ReadLineAsync(ct) is { } line)
                if (line.StartsWith("data: ", StringComparison.Ordinal)
                    && JsonDocument.Parse(line[6..]).RootElement.GetProperty("seq").GetInt64() is var streamed && streamed > seq)
                {
                    seq = streamed;
                    break;
                }
            await SendAsync(http, "/v1/device/ack", new { seq }, device, ct);
            for (var c = 0; c < CheckInsPerPayment; c++) await SendAsync(http, "/v1/device/checkin", new { appliedSeq = seq }, device, ct);
        }
        return i;
    }

    private static async Task SendAsync(HttpClient http, string path, object body, AuthenticationHeaderValue device, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body), Headers = { Authorization = device } };
        using var response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response, CancellationToken ct)
    {
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"{response.RequestMessage?.RequestUri?.AbsolutePath} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
            return (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).Clone();
        }
    }
}
