// Payments per second for one lender (issue: ≥ 500 payments/s on PostgreSQL, no errors, on a 2-core machine).
// Starts the real server (Release build) as its own process on a fresh PostgreSQL database (or, with --sqlite, a fresh
// SQLite file), creates a lender with the server's `lenders create` command, registers --plans devices by CSV import
// and gives each a plan that payments never pay off; then --concurrency workers each post payments back to back to
// random plans, first for a warm-up, then for the measured window. Prints throughput, latency, errors and the CPU each
// side used, checks the ledger against the answers, and drops the database at the end.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lien.Protocol;
using Npgsql;

var options = Options.Parse(args);
var time = TimeProvider.System;
var dataDir = Path.Combine(Path.GetTempPath(), "lien-payments-" + Guid.NewGuid().ToString("N"));
var env = new Dictionary<string, string>
{
    ["Lien__DataDir"] = dataDir,
    ["Lien__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
    ["Logging__LogLevel__Default"] = "Warning",
    ["ASPNETCORE_ENVIRONMENT"] = "Production",
};
var database = options.Sqlite ? null : "lien_bench_" + Guid.NewGuid().ToString("N");
if (database is not null)
{
    env["Database__Provider"] = "postgres";
    env["ConnectionStrings__Lien"] = new NpgsqlConnectionStringBuilder(options.Postgres) { Database = database }.ConnectionString;
}
foreach (var (key, value) in options.ServerEnv) env[key] = value;
var store = options.Sqlite ? "SQLite" : "PostgreSQL";

var log = new ServerLog();
Process? server = null;
var cleanedUp = 0;
void CleanUp()
{
    if (Interlocked.Exchange(ref cleanedUp, 1) != 0) return;
    if (server is not null)
        try
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit(10_000);
        }
        catch (InvalidOperationException) { } // already gone
    if (database is not null)
        try
        {
            Admin.Execute(options.Postgres, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            Console.WriteLine($"dropped database {database}");
        }
        catch (NpgsqlException e) { Console.Error.WriteLine($"could not drop database {database}: {e.Message}"); }
    try { if (Directory.Exists(dataDir)) Directory.Delete(dataDir, true); }
    catch (IOException) { }
}
Console.CancelKeyPress += (_, _) => CleanUp();

try
{
    return await RunAsync();
}
finally
{
    CleanUp();
}

async Task<int> RunAsync()
{
    Console.WriteLine($"# {store}, {options.Concurrency} workers, {options.Plans} plans, warm-up {options.Warmup} s, measured {options.Seconds} s; server {options.ServerDll}; load average {LoadAverage()}");
    if (!File.Exists(options.ServerDll)) throw new FileNotFoundException($"No server at {options.ServerDll}: build it first (dotnet build -c Release src/Lien.Server).");
    if (database is not null)
    {
        Admin.Execute(options.Postgres, $"CREATE DATABASE \"{database}\"");
        Console.WriteLine($"created database {database}");
    }

    var command = Run(options.ServerDll, env, ["lenders", "create", "--name", "Bench Lender", "--currency", "KES", "--time-zone", "Africa/Nairobi"], null);
    var (stdout, stderr) = (command.StandardOutput.ReadToEndAsync(), command.StandardError.ReadToEndAsync());
    var (commandOut, commandErr) = (await stdout, await stderr);
    await command.WaitForExitAsync();
    var apiKey = Regex.Match(commandOut, "lien_ak[0-9a-f]{12}_[0-9a-f]{64}").Value;
    if (apiKey.Length == 0) throw new InvalidOperationException("lender creation failed: " + commandOut + commandErr);

    var port = FreePort();
    env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
    server = Run(options.ServerDll, env, [], log);
    using var api = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency + 8, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
    { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
    api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    await WaitReadyAsync(api, server);

    // Devices by CSV import, then one plan each: a single installment of KES 10,000,000.00 due in 60 days, so the
    // payments of the run (100 minor units each) never pay a plan off and every payment does the same work.
    var setup = Stopwatch.StartNew();
    var first = Random.Shared.NextInt64(10_000_000_000, 80_000_000_000);
    var imeis = Enumerable.Range(0, options.Plans).Select(i => Imei.WithCheckDigit("35" + (first + i).ToString("000000000000", CultureInfo.InvariantCulture))).ToList();
    var deviceIds = new List<Guid>();
    foreach (var chunk in imeis.Chunk(5000))
    {
        using var r = await api.PostAsync("/v1/devices/import", new StringContent("imei\n" + string.Join('\n', chunk), Encoding.UTF8, "text/csv"));
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"import: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        var result = await r.Content.ReadFromJsonAsync<JsonElement>();
        deviceIds.AddRange(result.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("id").GetGuid()));
    }
    if (deviceIds.Count != options.Plans) throw new InvalidOperationException($"import registered {deviceIds.Count} of {options.Plans} devices");
    var due = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime).AddDays(60);
    var planBag = new ConcurrentBag<Guid>();
    await Parallel.ForEachAsync(deviceIds, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, ct) =>
    {
        using var r = await api.PostAsJsonAsync("/v1/plans", new
        {
            deviceId = id,
            borrowerReference = "bench",
            price = 1_000_000_000L,
            downPayment = 0L,
            generate = new { count = 1, frequency = "Monthly", firstDueDate = due },
        }, ct);
        if (r.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"plan: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(ct)}");
        planBag.Add((await r.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid());
    });
    var plans = planBag.ToArray();
    Console.WriteLine($"setup: {plans.Length} devices imported and planned in {setup.Elapsed.TotalSeconds:F1} s");

    var recorded = new ConcurrentDictionary<string, Guid>(); // providerTransactionId → plan, for every payment answered 201
    var errorBodies = 0;
    var sequence = 0L;
    var prefix = Guid.NewGuid().ToString("N")[..8];

    // One closed loop from the start of the warm-up to the end of the measured window: each worker posts its next
    // payment as soon as its last is answered, to a random plan. A payment counts in the phase in which its answer
    // arrived, so the measured window is exactly --seconds long and starts with every worker already busy; answers that
    // arrive after it (the last payments in flight) count in no phase, only in the ledger check.
    var warmup = new Phase("warm-up");
    var measured = new Phase("measured");
    var drain = new Phase("after the window");
    var start = Stopwatch.GetTimestamp();
    var warmupEnd = start + (long)(options.Warmup * (double)Stopwatch.Frequency);
    var end = warmupEnd + (long)(options.Seconds * (double)Stopwatch.Frequency);
    Phase PhaseAt(long t) => t < warmupEnd ? warmup : t < end ? measured : drain;
    using var observer = database is null ? null : new PostgresObserver(options.Postgres, database);
    var observing = Task.Run(async () =>
    {
        if (options.Warmup > 0) await ObserveAsync(warmup, start, warmupEnd);
        await ObserveAsync(measured, warmupEnd, end);
    });
    var workers = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
    {
        while (Stopwatch.GetTimestamp() < end)
        {
            var tx = $"{prefix}-{Interlocked.Increment(ref sequence)}";
            var plan = plans[Random.Shared.Next(plans.Length)];
            var body = $$"""{"planId":"{{plan}}","amount":100,"currency":"KES","provider":"bench","providerTransactionId":"{{tx}}"}""";
            var t0 = Stopwatch.GetTimestamp();
            int status;
            string? problem = null;
            try
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var r = await api.PostAsync("/v1/payments", content);
                status = (int)r.StatusCode;
                if (status is < 200 or > 299) problem = await r.Content.ReadAsStringAsync();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                status = 0;
                problem = e.GetType().Name + ": " + e.Message;
            }
            var t1 = Stopwatch.GetTimestamp();
            var phase = PhaseAt(t1);
            phase.Record(status, Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
            if (status == 201) recorded[tx] = plan;
            if (problem is not null && Interlocked.Increment(ref errorBodies) <= 5)
                Console.WriteLine($"  error {status} ({phase.Name}, {tx}): {(problem.Length > 400 ? problem[..400] + " …" : problem)}");
        }
    })).ToArray();
    await Task.WhenAll(workers);
    await observing;
    if (options.Warmup > 0) Console.WriteLine(warmup.Summary(options.Concurrency));
    Console.WriteLine(measured.Summary(options.Concurrency));
    Console.WriteLine($"after the window: {drain.Answers.Values.Sum()} payments in flight at its end answered, {drain.Errors} errors");

    // CPU, server log lines and (on PostgreSQL) what the bench database's backends were doing, over one phase's window.
    async Task ObserveAsync(Phase phase, long from, long until)
    {
        await DelayUntil(from);
        var cpu0 = new CpuSample(server!.Id, observer?.Backends() ?? []);
        var (errors0, warnings0) = (log.Errors, log.Warnings);
        var t0 = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() < until)
        {
            observer?.SampleActivity(phase.Activity);
            await DelayUntil(Math.Min(until, Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10));
        }
        var cpu1 = new CpuSample(server.Id, observer?.Backends() ?? []);
        phase.Window = Stopwatch.GetElapsedTime(t0);
        phase.ServerCores = (cpu1.Server - cpu0.Server) / phase.Window;
        phase.PostgresCores = cpu1.PostgresSince(cpu0) / phase.Window;
        phase.BenchCores = (cpu1.Bench - cpu0.Bench) / phase.Window;
        phase.MachineBusyCores = cpu1.MachineBusy(cpu0);
        phase.ErrorsLogged = log.Errors - errors0;
        phase.WarningsLogged = log.Warnings - warnings0;
    }

    static async Task DelayUntil(long timestamp)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
    }

    // The ledger against the answers: every payment answered 201 is recorded once, on its plan, and nothing else is.
    var inLedger = new ConcurrentDictionary<string, Guid>();
    var duplicates = 0;
    var paidMismatches = 0;
    await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (plan, ct) =>
    {
        var rows = await api.GetFromJsonAsync<JsonElement>($"/v1/plans/{plan}/payments", ct);
        long sum = 0;
        foreach (var row in rows.EnumerateArray())
        {
            sum += row.GetProperty("amount").GetInt64();
            if (!inLedger.TryAdd(row.GetProperty("providerTransactionId").GetString()!, plan)) Interlocked.Increment(ref duplicates);
        }
        var paid = (await api.GetFromJsonAsync<JsonElement>($"/v1/plans/{plan}", ct)).GetProperty("paid").GetInt64();
        if (paid != sum) Interlocked.Increment(ref paidMismatches);
    });
    var missing = recorded.Count(kv => !inLedger.TryGetValue(kv.Key, out var p) || p != kv.Value);
    var extra = inLedger.Keys.Count(k => !recorded.ContainsKey(k));
    var ledgerMatches = missing == 0 && extra == 0 && duplicates == 0 && paidMismatches == 0;
    Console.WriteLine(ledgerMatches
        ? $"ledger matches: {recorded.Count} payments answered 201 (warm-up and measured), {inLedger.Count} in the ledger across {plans.Length} plans, each plan's paid total the sum of its payments"
        : $"LEDGER MISMATCH: {recorded.Count} answered 201, {inLedger.Count} in the ledger; {missing} answered but not recorded on their plan, {extra} recorded but not answered 201, {duplicates} duplicates, {paidMismatches} plans whose paid total is not the sum of their payments");

    Console.WriteLine($"load average at the end {LoadAverage()} ({Environment.ProcessorCount} cores; other processes share them)");
    Console.WriteLine($"server log: {log.Errors} error lines (fail:/crit:), {log.Warnings} warnings (warn:) in all");
    foreach (var line in log.Sample) Console.WriteLine("  server: " + line);

    Console.WriteLine();
    Console.WriteLine("| store | concurrency | payments/s | p50 ms | p99 ms | max ms | errors | server CPU (cores) | server CPU ms per payment |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    Console.WriteLine(measured.Row(store, options.Concurrency));
    var failed = warmup.Errors + measured.Errors + drain.Errors;
    return failed == 0 && ledgerMatches && log.Errors == 0 ? 0 : 1;
}

static Process Run(string dll, Dictionary<string, string> env, string[] args, ServerLog? log)
{
    var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
    info.ArgumentList.Add(dll);
    foreach (var a in args) info.ArgumentList.Add(a);
    // The bench's own runtime settings (DOTNET_*) are its own: the server runs with only what --env gives it.
    foreach (var k in info.Environment.Keys.Where(k => k.StartsWith("DOTNET_", StringComparison.Ordinal)).ToList()) info.Environment.Remove(k);
    foreach (var (k, v) in env) info.Environment[k] = v;
    var p = Process.Start(info)!;
    if (log is not null)
    {
        p.OutputDataReceived += (_, e) => log.Add(e.Data);
        p.ErrorDataReceived += (_, e) => log.Add(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
    }
    return p;
}

static async Task WaitReadyAsync(HttpClient api, Process server)
{
    for (var i = 0; i < 600; i++)
    {
        if (server.HasExited) throw new InvalidOperationException($"server exited with {server.ExitCode} before it was ready");
        try
        {
            using var r = await api.GetAsync("/v1/lender");
            if (r.IsSuccessStatusCode) return;
        }
        catch (HttpRequestException) { }
        await Task.Delay(100);
    }
    throw new TimeoutException("server did not start");
}

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

/// <summary>The bench's own database: created, listed and dropped through the admin connection.</summary>
internal static class Admin
{
    public static void Execute(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}

/// <summary>CPU time at one moment: the server's, the bench's own, the bench database's PostgreSQL backends', the machine's.</summary>
internal sealed class CpuSample
{
    private const double TicksPerSecond = 100; // USER_HZ: /proc reports CPU times in these on Linux

    public TimeSpan Server { get; }
    public TimeSpan Bench { get; }
    public Dictionary<int, TimeSpan> Postgres { get; }
    private readonly long _machineBusy;
    private readonly long _machineTotal;

    public CpuSample(int serverPid, int[] postgresPids)
    {
        Server = ProcessCpu(serverPid) ?? TimeSpan.Zero;
        Bench = Process.GetCurrentProcess().TotalProcessorTime;
        Postgres = postgresPids.Select(p => (p, cpu: ProcessCpu(p))).Where(x => x.cpu is not null).ToDictionary(x => x.p, x => x.cpu!.Value);
        // First line of /proc/stat: cpu user nice system idle iowait irq softirq steal guest guest_nice.
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        _machineTotal = fields.Sum();
        _machineBusy = _machineTotal - fields[3] - fields[4];
    }

    /// <summary>Backends that existed at <paramref name="before"/> count from then; those opened since count from their start.</summary>
    public TimeSpan PostgresSince(CpuSample before) =>
        Postgres.Aggregate(TimeSpan.Zero, (sum, kv) => sum + kv.Value - before.Postgres.GetValueOrDefault(kv.Key));

    /// <summary>Busy cores of the whole machine (all processes, everyone's) between <paramref name="before"/> and now.</summary>
    public double MachineBusy(CpuSample before) =>
        _machineTotal == before._machineTotal ? 0 : (double)(_machineBusy - before._machineBusy) / (_machineTotal - before._machineTotal) * Environment.ProcessorCount;

    /// <summary>utime + stime from /proc/PID/stat (fields 14 and 15), or null when the process is gone or unreadable.</summary>
    private static TimeSpan? ProcessCpu(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: count the fields after its closing one.
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / TicksPerSecond);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>What the server wrote: its console logger starts an error line with "fail:" or "crit:", a warning with "warn:".</summary>
internal sealed class ServerLog
{
    private int _errors;
    private int _warnings;
    private int _follow;
    private readonly ConcurrentQueue<string> _sample = new();

    public int Errors => Volatile.Read(ref _errors);
    public int Warnings => Volatile.Read(ref _warnings);

    /// <summary>The first error and warning lines with the few lines after each (the category, message and stack).</summary>
    public IEnumerable<string> Sample => _sample;

    public void Add(string? line)
    {
        if (line is null) return;
        var error = line.Contains("fail:", StringComparison.Ordinal) || line.Contains("crit:", StringComparison.Ordinal);
        var warning = !error && line.Contains("warn:", StringComparison.Ordinal);
        if (error) Interlocked.Increment(ref _errors);
        if (warning) Interlocked.Increment(ref _warnings);
        if (_sample.Count >= 60) return;
        if (error || warning)
        {
            _follow = 4;
            _sample.Enqueue(line);
        }
        else if (_follow > 0)
        {
            _follow--;
            _sample.Enqueue(line);
        }
    }
}

/// <summary>One phase of the run: every payment's latency and answer, the CPU each side used, the database's activity.</summary>
internal sealed class Phase(string name)
{
    private readonly ConcurrentQueue<double> _latencies = new();
    private double[]? _sorted;

    public string Name { get; } = name;
    public ConcurrentDictionary<int, int> Answers { get; } = new();
    public TimeSpan Window { get; set; }
    public double ServerCores { get; set; }
    public double PostgresCores { get; set; }
    public double BenchCores { get; set; }
    public double MachineBusyCores { get; set; }
    public int ErrorsLogged { get; set; }
    public int WarningsLogged { get; set; }

    /// <summary>What the bench database's backends were doing: per kind, the samples in which one was.</summary>
    public Activity Activity { get; } = new();

    public void Record(int status, double ms)
    {
        Answers.AddOrUpdate(status, 1, (_, n) => n + 1);
        _latencies.Enqueue(ms);
    }

    public int Created => Answers.GetValueOrDefault(201);
    public int Errors => Answers.Where(kv => kv.Key is < 200 or > 299).Sum(kv => kv.Value);
    public double PerSecond => Created / Window.TotalSeconds;
    public double ServerMsPerPayment => Created == 0 ? double.NaN : ServerCores * Window.TotalMilliseconds / Created;

    /// <summary>Latency quantile over every answer of the phase (errors included), nearest rank.</summary>
    public double P(double q)
    {
        var sorted = _sorted ??= [.. _latencies.Order()];
        return sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, Math.Max(0, (int)Math.Ceiling(q * sorted.Length) - 1))];
    }

    public string Summary(int concurrency)
    {
        var answers = string.Join(", ", Answers.OrderBy(kv => kv.Key).Select(kv => $"{(kv.Key == 0 ? "no answer" : kv.Key.ToString(CultureInfo.InvariantCulture))} × {kv.Value:N0}"));
        var summary = $"{Name}: {Created:N0} payments recorded (201) in {Window.TotalSeconds:F1} s at {concurrency}-way concurrency: {PerSecond:F0}/s; " +
               $"latency p50 {P(0.50):F1} ms, p99 {P(0.99):F1} ms, max {P(1):F1} ms; answers {answers}; {Errors} errors; " +
               $"server log {ErrorsLogged} error, {WarningsLogged} warning lines; CPU: server {ServerCores:F2} cores ({ServerMsPerPayment:F2} ms/payment), " +
               $"bench {BenchCores:F2} cores, machine busy {MachineBusyCores:F2} of {Environment.ProcessorCount} cores (everyone's)";
        if (Activity.Samples > 0)
            summary += $"; PostgreSQL backends of the bench database {PostgresCores:F2} cores, on average {Activity}";
        return summary;
    }

    public string Row(string store, int concurrency) =>
        $"| {store} | {concurrency} | {PerSecond:F0} | {P(0.50):F1} | {P(0.99):F1} | {P(1):F1} | {Errors} | {ServerCores:F2} | {ServerMsPerPayment:F2} |";
}

/// <summary>Backends by what they were doing (pg_stat_activity's state and wait event), summed over samples.</summary>
internal sealed class Activity
{
    private readonly Dictionary<string, int> _counts = [];
    public int Samples { get; private set; }

    public void Add(IEnumerable<string> kinds)
    {
        Samples++;
        foreach (var kind in kinds) _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
    }

    public override string ToString() => string.Join(", ", _counts.Where(kv => kv.Key != "idle").OrderByDescending(kv => kv.Value)
        .Select(kv => $"{kv.Value / (double)Samples:F1} {kv.Key}"));
}

/// <summary>
/// Watches the bench database from the admin database on a connection of its own: which backends serve it (for their
/// CPU), and what they are doing — running a statement, waiting for a lock (a lender's writes take turns on its row),
/// waiting on the WAL (commit), or idle in a transaction while the server works between two statements.
/// </summary>
internal sealed class PostgresObserver : IDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly string _database;

    public PostgresObserver(string connectionString, string database)
    {
        _connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        _connection.Open();
        _database = database;
    }

    public int[] Backends()
    {
        using var command = new NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE datname = $1", _connection);
        command.Parameters.Add(new NpgsqlParameter { Value = _database });
        var pids = new List<int>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) pids.Add(reader.GetInt32(0));
        return [.. pids];
    }

    public void SampleActivity(Activity activity)
    {
        using var command = new NpgsqlCommand("SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE datname = $1", _connection);
        command.Parameters.Add(new NpgsqlParameter { Value = _database });
        var kinds = new List<string>();
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                var state = reader.IsDBNull(0) ? "" : reader.GetString(0);
                var type = reader.IsDBNull(1) ? null : reader.GetString(1);
                var wait = reader.IsDBNull(2) ? null : reader.GetString(2);
                kinds.Add(state switch
                {
                    "active" when type is null => "running a statement",
                    "active" when type == "Lock" => $"waiting for a lock ({wait})",
                    "active" => $"waiting on {type}:{wait}",
                    "idle in transaction" => "idle in a transaction",
                    _ => state is "" or "idle" ? "idle" : state,
                });
            }
        activity.Add(kinds);
    }

    public void Dispose() => _connection.Dispose();
}

internal sealed record Options(string Postgres, int Concurrency, int Seconds, int Warmup, int Plans, string ServerDll, bool Sqlite,
    IReadOnlyList<KeyValuePair<string, string>> ServerEnv)
{
    private const string LocalPostgres = "Host=127.0.0.1;Username=postgres;Password=lien";
    private static readonly string[] Valued = ["--postgres", "--concurrency", "--seconds", "--warmup", "--plans", "--server"];

    public static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>();
        var serverEnv = new List<KeyValuePair<string, string>>();
        var sqlite = false;
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a == "--sqlite") sqlite = true;
            else if (a.StartsWith("--env=", StringComparison.Ordinal) && a[6..].Split('=', 2) is [{ Length: > 0 } key, var value]) serverEnv.Add(new(key, value));
            else if (Valued.Contains(a) && i + 1 < args.Length) values[a] = args[++i];
            else throw new ArgumentException($"unknown or incomplete option '{a}'. Options: --postgres CS, --concurrency N, --seconds S, --warmup S, --plans N, --server PATH, --sqlite, --env=KEY=VALUE");
        }
        int Int(string name, int fallback, int min) =>
            values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) is var n && n >= min ? n : throw new ArgumentException($"{name} must be at least {min}") : fallback;
        var server = values.TryGetValue("--server", out var s) ? Path.GetFullPath(s) : Path.Combine(RepoRoot(), "src", "Lien.Server", "bin", "Release", "net10.0", "Lien.Server.dll");
        return new Options(values.GetValueOrDefault("--postgres") ?? LocalPostgres, Int("--concurrency", 32, 1), Int("--seconds", 30, 1),
            Int("--warmup", 10, 0), Int("--plans", 200, 1), server, sqlite, serverEnv);
    }

    /// <summary>The folder holding Lien.slnx, above the working directory or else above the bench's own binaries.</summary>
    private static string RepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Lien.slnx"))) return dir.FullName;
        throw new InvalidOperationException("Lien.slnx not found above the working directory; give --server PATH.");
    }
}
