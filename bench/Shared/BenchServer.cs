// What the benches that drive the real server as its own process share (compile-included by bench/Lien.Bench.Payments
// and bench/Lien.Bench.Enrollment): their common options, the server process on a fresh PostgreSQL database or SQLite
// file (lender created with `lenders create`, started, awaited, killed and its database dropped at the end), the closed
// loop of workers over a warm-up and a measured window, and what is observed meanwhile — latency, answers, the CPU of
// the server, the bench and the machine, the server's log lines and what the PostgreSQL backends are doing.
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

namespace Lien.Bench;

/// <summary>The options every server bench takes; <see cref="Values"/> holds the bench's own valued options.</summary>
internal sealed record BenchOptions(string Postgres, bool Sqlite, int Concurrency, int Seconds, int Warmup, string ServerDll,
    IReadOnlyList<KeyValuePair<string, string>> ServerEnv, IReadOnlyDictionary<string, string> Values)
{
    private const string LocalPostgres = "Host=127.0.0.1;Username=postgres;Password=lien";
    private static readonly string[] Valued = ["--concurrency", "--seconds", "--warmup", "--server"];

    public string Store => Sqlite ? "SQLite" : "PostgreSQL";

    /// <summary>
    /// Parses <paramref name="args"/>: <c>--sqlite</c>, <c>--postgres [CS]</c> (the connection string is optional: the
    /// local server by default), <c>--concurrency N</c>, <c>--seconds S</c>, <c>--warmup S</c>, <c>--server PATH</c>,
    /// <c>--env=KEY=VALUE</c> (to the server), and the bench's own <paramref name="ownValued"/> options.
    /// </summary>
    public static BenchOptions Parse(string[] args, bool sqliteByDefault, (int Concurrency, int Seconds, int Warmup) defaults,
        string[] ownValued, string usage)
    {
        var values = new Dictionary<string, string>();
        var serverEnv = new List<KeyValuePair<string, string>>();
        var (sqlite, postgres) = (false, false);
        CommandLine.HelpIfAsked(args, usage);
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a == "--sqlite") sqlite = true;
            else if (a == "--postgres")
            {
                postgres = true;
                if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) values[a] = args[++i];
            }
            else if (a.StartsWith("--env=", StringComparison.Ordinal) && a[6..].Split('=', 2) is [{ Length: > 0 } key, var value]) serverEnv.Add(new(key, value));
            else if ((Valued.Contains(a) || ownValued.Contains(a)) && i + 1 < args.Length) values[a] = args[++i];
            else CommandLine.Refuse($"unknown or incomplete option '{a}'. Options: {usage}");
        }
        var server = values.TryGetValue("--server", out var s) ? Path.GetFullPath(s) : Path.Combine(RepoRoot(), "src", "Lien.Server", "bin", "Release", "net10.0", "Lien.Server.dll");
        var options = new BenchOptions(values.GetValueOrDefault("--postgres") ?? LocalPostgres, sqlite || (sqliteByDefault && !postgres), 0, 0, 0, server, serverEnv, values);
        return options with
        {
            Concurrency = options.Int("--concurrency", defaults.Concurrency, 1),
            Seconds = options.Int("--seconds", defaults.Seconds, 1),
            Warmup = options.Int("--warmup", defaults.Warmup, 0),
        };
    }

    /// <summary>The integer option <paramref name="name"/>, at least <paramref name="min"/>, or <paramref name="fallback"/> when not given.</summary>
    public int Int(string name, int fallback, int min)
    {
        if (!Values.TryGetValue(name, out var v)) return fallback;
        if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) CommandLine.Refuse($"{name} takes a whole number, not '{v}'.");
        if (n < min) CommandLine.Refuse($"{name} must be at least {min}.");
        return n;
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

/// <summary>
/// The real server (Release build) as its own process, on a fresh PostgreSQL database (created here, dropped at the end)
/// or a fresh SQLite file in a data folder of its own (deleted at the end), with a fresh master key.
/// </summary>
internal sealed class BenchServer : IDisposable
{
    private readonly BenchOptions options;
    private readonly Dictionary<string, string> env;
    private int cleanedUp;
    private Uri? address;

    /// <param name="options">The store, the server build and its --env settings.</param>
    /// <param name="name">What the bench measures, in the data folder's name.</param>
    /// <param name="settings">The bench's own server settings (environment variables); <c>--env</c> comes after them.</param>
    public BenchServer(BenchOptions options, string name, IEnumerable<KeyValuePair<string, string>> settings)
    {
        this.options = options;
        DataDir = Path.Combine(Path.GetTempPath(), $"lien-{name}-" + Guid.NewGuid().ToString("N"));
        env = new Dictionary<string, string>
        {
            ["Lien__DataDir"] = DataDir,
            ["Lien__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Logging__LogLevel__Default"] = "Warning",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        };
        Database = options.Sqlite ? null : "lien_bench_" + Guid.NewGuid().ToString("N");
        if (Database is not null)
        {
            env["Database__Provider"] = "postgres";
            env["ConnectionStrings__Lien"] = new NpgsqlConnectionStringBuilder(options.Postgres) { Database = Database }.ConnectionString;
        }
        foreach (var (key, value) in settings) env[key] = value;
        foreach (var (key, value) in options.ServerEnv) env[key] = value;
        Console.CancelKeyPress += (_, _) => Dispose();
    }

    /// <summary>The server's data folder (Lien:DataDir): the SQLite file, and any file the bench hands the server.</summary>
    public string DataDir { get; }

    /// <summary>The bench's PostgreSQL database, or null on SQLite.</summary>
    public string? Database { get; }

    /// <summary>The server's connection string to <see cref="Database"/>, or null on SQLite.</summary>
    public string? ConnectionString => Database is null ? null : env["ConnectionStrings__Lien"];

    public ServerLog Log { get; } = new();

    public Process? Process { get; private set; }

    /// <summary>Creates the bench's database (on PostgreSQL), after checking the server is built.</summary>
    public void CreateDatabase()
    {
        if (!File.Exists(options.ServerDll)) throw new FileNotFoundException($"No server at {options.ServerDll}: build it first (dotnet build -c Release src/Lien.Server).");
        if (Database is null) return;
        Admin.Execute(options.Postgres, $"CREATE DATABASE \"{Database}\"");
        Console.WriteLine($"created database {Database}");
    }

    /// <summary>Creates the lender "Bench Lender" (KES, Africa/Nairobi) with <c>lenders create</c> and <paramref name="more"/> of its options; answers its admin API key.</summary>
    public async Task<string> CreateLenderAsync(params string[] more)
    {
        var command = Run(options.ServerDll, env, ["lenders", "create", "--name", "Bench Lender", "--currency", "KES", "--time-zone", "Africa/Nairobi", .. more], null);
        var (stdout, stderr) = (command.StandardOutput.ReadToEndAsync(), command.StandardError.ReadToEndAsync());
        var (commandOut, commandErr) = (await stdout, await stderr);
        await command.WaitForExitAsync();
        var apiKey = Regex.Match(commandOut, "lien_ak[0-9a-f]{12}_[0-9a-f]{64}").Value;
        if (apiKey.Length == 0) throw new InvalidOperationException("lender creation failed: " + commandOut + commandErr);
        return apiKey;
    }

    /// <summary>Starts the server on a free loopback port and answers a client for it, once it answers <c>GET /v1/lender</c> with <paramref name="apiKey"/>.</summary>
    public async Task<HttpClient> StartAsync(string apiKey)
    {
        var port = FreePort();
        env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        Process = Run(options.ServerDll, env, [], Log);
        address = new Uri($"http://127.0.0.1:{port}");
        var api = NewClient();
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        await WaitReadyAsync(api, Process);
        return api;
    }

    /// <summary>A client of the started server with no credentials (what a phone calls the device API with), a connection per worker unless <paramref name="connections"/> says otherwise.</summary>
    public HttpClient NewClient(int? connections = null) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = connections ?? options.Concurrency + 8, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        { BaseAddress = address ?? throw new InvalidOperationException("the server is not started"), Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>A client for the devices' lease streams: a connection each, open as long as the bench runs.</summary>
    public HttpClient NewStreamClient() =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        { BaseAddress = address ?? throw new InvalidOperationException("the server is not started"), Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>Registers <paramref name="count"/> devices (fresh valid IMEIs) by CSV import; answers each one's IMEI and id.</summary>
    public static async Task<(string Imei, Guid Id)[]> ImportDevicesAsync(HttpClient api, int count)
    {
        var first = Random.Shared.NextInt64(10_000_000_000, 80_000_000_000);
        var imeis = Enumerable.Range(0, count).Select(i => Imei.WithCheckDigit("35" + (first + i).ToString("000000000000", CultureInfo.InvariantCulture))).ToList();
        var devices = new List<(string Imei, Guid Id)>();
        foreach (var chunk in imeis.Chunk(5000))
        {
            using var r = await api.PostAsync("/v1/devices/import", new StringContent("imei\n" + string.Join('\n', chunk), Encoding.UTF8, "text/csv"));
            if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"import: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
            var result = await r.Content.ReadFromJsonAsync<JsonElement>();
            devices.AddRange(result.GetProperty("devices").EnumerateArray().Select(d => (d.GetProperty("imei").GetString()!, d.GetProperty("id").GetGuid())));
        }
        if (devices.Count != count) throw new InvalidOperationException($"import registered {devices.Count} of {count} devices");
        return [.. devices];
    }

    /// <summary>Kills the server, drops the database and deletes the data folder; once, whichever calls first (the end or Ctrl+C).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref cleanedUp, 1) != 0) return;
        if (Process is not null)
            try
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
            catch (InvalidOperationException) { } // already gone
        if (Database is not null)
            try
            {
                Admin.Execute(options.Postgres, $"DROP DATABASE IF EXISTS \"{Database}\" WITH (FORCE)");
                Console.WriteLine($"dropped database {Database}");
            }
            catch (NpgsqlException e) { Console.Error.WriteLine($"could not drop database {Database}: {e.Message}"); }
        try { if (Directory.Exists(DataDir)) Directory.Delete(DataDir, true); }
        catch (IOException) { }
    }

    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static Process Run(string dll, Dictionary<string, string> env, string[] args, ServerLog? log)
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

    private static async Task WaitReadyAsync(HttpClient api, Process server)
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
}

/// <summary>What one unit of work is called, and the status that counts it as done: ("payment", "payments", "recorded", 201).</summary>
internal sealed record Work(string One, string Many, string Done, int Success);

/// <summary>One unit of work as a worker saw it: the answer's status (0: none), its latency, the problem when it failed, a label for the error lines, and the time each stage took.</summary>
internal readonly record struct Attempt(int Status, double Ms, string? Problem, string Label, IReadOnlyList<(string Stage, double Ms)>? Stages = null)
{
    /// <summary>Sends one request: its status and, when <paramref name="readBody"/> or it is not 2xx, its body; a failure to get an answer is status 0 with why.</summary>
    public static async Task<(int Status, string? Body)> SendAsync(Func<Task<HttpResponseMessage>> send, bool readBody = false)
    {
        try
        {
            using var r = await send();
            var status = (int)r.StatusCode;
            return (status, readBody || status is < 200 or > 299 ? await r.Content.ReadAsStringAsync() : null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (0, e.GetType().Name + ": " + e.Message);
        }
    }
}

/// <summary>
/// One closed loop from the start of the warm-up to the end of the measured window: each worker starts its next attempt
/// as soon as its last is answered. An attempt counts in the phase in which its answer arrived, so the measured window
/// is exactly --seconds long and starts with every worker already busy; answers that arrive after it (the last attempts
/// in flight) count in no phase. Meanwhile the CPU of each side, the server's log and (on PostgreSQL) what the bench
/// database's backends do are observed per phase.
/// </summary>
internal sealed class ClosedLoop(BenchServer server, BenchOptions options, Work work)
{
    private long _warmupEnd;
    private long _end;

    public Phase Warmup { get; } = new("warm-up", work);
    public Phase Measured { get; } = new("measured", work);
    public Phase Drain { get; } = new("after the window", work);

    /// <summary>Error answers in every phase.</summary>
    public int Errors => Warmup.Errors + Measured.Errors + Drain.Errors;

    /// <summary>The phase an answer that arrives at <paramref name="timestamp"/> (a <see cref="Stopwatch"/> one) counts in, once <see cref="RunAsync"/> has started.</summary>
    public Phase PhaseAt(long timestamp) => timestamp < _warmupEnd ? Warmup : timestamp < _end ? Measured : Drain;

    /// <summary>Runs <see cref="BenchOptions.Concurrency"/> workers, worker i calling <paramref name="attempt"/>(i) back to back; prints each phase's summary.</summary>
    public async Task RunAsync(Func<int, Task<Attempt>> attempt)
    {
        var errorBodies = 0;
        var start = Stopwatch.GetTimestamp();
        var warmupEnd = _warmupEnd = start + (long)(options.Warmup * (double)Stopwatch.Frequency);
        var end = _end = warmupEnd + (long)(options.Seconds * (double)Stopwatch.Frequency);
        using var observer = server.Database is null ? null : new PostgresObserver(options.Postgres, server.Database);
        var observing = Task.Run(async () =>
        {
            if (options.Warmup > 0) await ObserveAsync(Warmup, start, warmupEnd, observer);
            await ObserveAsync(Measured, warmupEnd, end, observer);
        });
        var workers = Enumerable.Range(0, options.Concurrency).Select(worker => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                var a = await attempt(worker);
                var phase = PhaseAt(Stopwatch.GetTimestamp());
                phase.Record(a);
                if (a.Problem is not null && Interlocked.Increment(ref errorBodies) <= 5)
                    Console.WriteLine($"  error {a.Status} ({phase.Name}, {a.Label}): {(a.Problem.Length > 400 ? a.Problem[..400] + " …" : a.Problem)}");
            }
        })).ToArray();
        await Task.WhenAll(workers);
        await observing;
        if (options.Warmup > 0) Console.WriteLine(Warmup.Summary(options.Concurrency));
        Console.WriteLine(Measured.Summary(options.Concurrency));
        Console.WriteLine($"after the window: {Drain.Answers.Values.Sum()} {work.Many} in flight at its end answered, {Drain.Errors} errors");
    }

    // CPU, server log lines and (on PostgreSQL) what the bench database's backends were doing, over one phase's window.
    private async Task ObserveAsync(Phase phase, long from, long until, PostgresObserver? observer)
    {
        await DelayUntil(from);
        var cpu0 = new CpuSample(server.Process!.Id, observer?.Backends() ?? []);
        var (errors0, warnings0) = (server.Log.Errors, server.Log.Warnings);
        var t0 = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() < until)
        {
            observer?.SampleActivity(phase.Activity);
            await DelayUntil(Math.Min(until, Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10));
        }
        var cpu1 = new CpuSample(server.Process.Id, observer?.Backends() ?? []);
        phase.Window = Stopwatch.GetElapsedTime(t0);
        phase.ServerCores = (cpu1.Server - cpu0.Server) / phase.Window;
        phase.PostgresCores = cpu1.PostgresSince(cpu0) / phase.Window;
        phase.BenchCores = (cpu1.Bench - cpu0.Bench) / phase.Window;
        phase.MachineBusyCores = cpu1.MachineBusy(cpu0);
        phase.ErrorsLogged = server.Log.Errors - errors0;
        phase.WarningsLogged = server.Log.Warnings - warnings0;
    }

    private static async Task DelayUntil(long timestamp)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
    }
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

    /// <summary>Every line the server writes, as it comes (a bench that waits for one).</summary>
    public event Action<string>? Line;

    public void Add(string? line)
    {
        if (line is null) return;
        Line?.Invoke(line);
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

    /// <summary>Prints the totals and the sample.</summary>
    public void Print()
    {
        Console.WriteLine($"server log: {Errors} error lines (fail:/crit:), {Warnings} warnings (warn:) in all");
        foreach (var line in Sample) Console.WriteLine("  server: " + line);
    }
}

/// <summary>One phase of the run: every attempt's latency, answer and stage times, the CPU each side used, the database's activity.</summary>
internal sealed class Phase(string name, Work work)
{
    private readonly Samples _latencies = new();
    private readonly ConcurrentDictionary<string, (double Sum, int Count)> _stages = new();

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

    public void Record(Attempt attempt)
    {
        Answers.AddOrUpdate(attempt.Status, 1, (_, n) => n + 1);
        _latencies.Add(attempt.Ms);
        foreach (var (stage, ms) in attempt.Stages ?? [])
            _stages.AddOrUpdate(stage, (ms, 1), (_, s) => (s.Sum + ms, s.Count + 1));
    }

    public int Done => Answers.GetValueOrDefault(work.Success);
    public int Errors => Answers.Where(kv => kv.Key is < 200 or > 299).Sum(kv => kv.Value);
    public double PerSecond => Done / Window.TotalSeconds;
    public double ServerMsPerUnit => Done == 0 ? double.NaN : ServerCores * Window.TotalMilliseconds / Done;
    public double BenchMsPerUnit => Done == 0 ? double.NaN : BenchCores * Window.TotalMilliseconds / Done;

    /// <summary>Units done per second of the server's CPU time: the per-core rate.</summary>
    public double PerServerCpuSecond => Done / (ServerCores * Window.TotalSeconds);

    /// <summary>Mean time of each stage the attempts reported, in the order first seen.</summary>
    public IEnumerable<(string Stage, double MeanMs)> Stages => _stages.Select(kv => (kv.Key, kv.Value.Sum / kv.Value.Count));

    /// <summary>Latency quantile over every answer of the phase (errors included), nearest rank.</summary>
    public double P(double q) => _latencies.P(q);

    public string Summary(int concurrency)
    {
        var answers = string.Join(", ", Answers.OrderBy(kv => kv.Key).Select(kv => $"{(kv.Key == 0 ? "no answer" : kv.Key.ToString(CultureInfo.InvariantCulture))} × {kv.Value:N0}"));
        var summary = $"{Name}: {Done:N0} {work.Many} {work.Done} ({work.Success}) in {Window.TotalSeconds:F1} s at {concurrency}-way concurrency: {PerSecond:F0}/s; " +
               $"latency p50 {P(0.50):F1} ms, p99 {P(0.99):F1} ms, max {P(1):F1} ms; answers {answers}; {Errors} errors; " +
               $"server log {ErrorsLogged} error, {WarningsLogged} warning lines; CPU: server {ServerCores:F2} cores ({ServerMsPerUnit:F2} ms/{work.One}), " +
               $"bench {BenchCores:F2} cores, machine busy {MachineBusyCores:F2} of {Environment.ProcessorCount} cores (everyone's)";
        if (Activity.Samples > 0)
            summary += $"; PostgreSQL backends of the bench database {PostgresCores:F2} cores, on average {Activity}";
        return summary;
    }
}

/// <summary>Times in milliseconds, added from any thread, and their quantiles once they are all in.</summary>
internal sealed class Samples
{
    private readonly ConcurrentQueue<double> _values = new();
    private double[]? _sorted;

    public int Count => _values.Count;

    public void Add(double ms) => _values.Enqueue(ms);

    /// <summary>Quantile <paramref name="q"/> (1: the maximum), nearest rank; NaN when there are none. Read once every sample is in.</summary>
    public double P(double q)
    {
        var sorted = _sorted ??= [.. _values.Order()];
        return sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, Math.Max(0, (int)Math.Ceiling(q * sorted.Length) - 1))];
    }
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
