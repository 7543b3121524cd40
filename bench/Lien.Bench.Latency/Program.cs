// Payment-to-applied latency with many devices streaming from one server (issue: instant channel).
// Starts the real server (Release build) as its own process on a fresh SQLite database, registers and enrolls N devices,
// opens N Server-Sent Events streams (one per device, as agents would), measures the server's memory per idle
// stream, then posts payments at a fixed rate to random devices and times each from the payment request to the
// device having verified the pushed lease and acknowledged it.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lien.Bench;
using Lien.Protocol;

var options = Args.Parse(args);
var time = TimeProvider.System;
var dataDir = Path.Combine(Path.GetTempPath(), "lien-latency-" + Guid.NewGuid().ToString("N"));
var env = new Dictionary<string, string>
{
    ["Lien__DataDir"] = dataDir,
    ["Lien__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
    ["Logging__LogLevel__Default"] = "Warning",
    ["ASPNETCORE_ENVIRONMENT"] = "Production",
    // Every simulated phone enrolls from this one address: a fleet behind one NAT, as far as the limits can tell.
    ["Lien__RateLimits__EnrollPerAddress__Limit"] = "1000000000",
    ["Lien__RateLimits__ChallengePerAddress__Limit"] = "1000000000",
};
if (options.WorkstationGc) env["DOTNET_gcServer"] = "0";
foreach (var setting in args.Where(a => a.StartsWith("--env=", StringComparison.Ordinal)).Select(a => a[6..].Split('=', 2))) env[setting[0]] = setting[1];

Console.WriteLine($"# {options.Devices} devices, {options.Rate} payments/s for {options.Seconds} s; server {options.ServerDll}{(options.WorkstationGc ? " (workstation GC)" : "")}");
var command = Run(options.ServerDll, env, ["lenders", "create", "--name", "Bench Lender", "--currency", "KES", "--time-zone", "Africa/Nairobi", "--enrollment", "open"]);
var commandOut = await command.StandardOutput.ReadToEndAsync();
await command.WaitForExitAsync();
var apiKey = Regex.Match(commandOut, "lien_ak[0-9a-f]{12}_[0-9a-f]{64}").Value;
if (apiKey.Length == 0) throw new InvalidOperationException("lender creation failed: " + await command.StandardError.ReadToEndAsync());

var port = FreePort();
env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
using var server = Run(options.ServerDll, env, []);
var baseUri = new Uri($"http://127.0.0.1:{port}");
var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
using var api = new HttpClient(handler) { BaseAddress = baseUri, Timeout = TimeSpan.FromMinutes(5) };
api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
await WaitReadyAsync(api);

var sw = Stopwatch.StartNew();
var imeis = Enumerable.Range(0, options.Devices).Select(i => Imei.WithCheckDigit("35" + (10_000_000_000L + i).ToString("000000000000", CultureInfo.InvariantCulture))).ToList();
var deviceIds = new List<Guid>();
foreach (var chunk in imeis.Chunk(5000))
{
    var csv = "imei\n" + string.Join('\n', chunk);
    var r = await api.PostAsync("/v1/devices/import", new StringContent(csv, Encoding.UTF8, "text/csv"));
    var result = await r.Content.ReadFromJsonAsync<JsonElement>();
    deviceIds.AddRange(result.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("id").GetGuid()));
}
var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
var plans = new ConcurrentDictionary<Guid, Guid>();
await Parallel.ForEachAsync(deviceIds, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (id, ct) =>
{
    var r = await api.PostAsJsonAsync("/v1/plans", new { deviceId = id, price = 1_200_000, generate = new { count = 12, frequency = "Monthly", firstDueDate = today.AddDays(-40) }, backdated = true }, ct);
    r.EnsureSuccessStatusCode();
    plans[id] = (await r.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid();
});
var devices = new ConcurrentBag<StreamingDevice>();
await Parallel.ForEachAsync(imeis, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (imei, ct) => devices.Add(await StreamingDevice.EnrollAsync(api, imei, ct)));
Console.WriteLine($"setup: {options.Devices} devices registered, planned and enrolled in {sw.Elapsed.TotalSeconds:F0} s");

// Memory per idle stream: the server's resident set before and after every device holds its stream open.
await Task.Delay(TimeSpan.FromSeconds(5), time);
var heapBefore = await LiveHeapAsync(server);
var before = Rss(server);
using var streamClient = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
{ BaseAddress = baseUri, Timeout = Timeout.InfiniteTimeSpan };
using var ackClient = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = baseUri };
var pending = new ConcurrentDictionary<Guid, long>(); // device → payment start timestamp
var recorder = new Recorder();
var benchStart = Stopwatch.GetTimestamp();
var benchStartUtc = time.GetUtcNow();
var stop = new CancellationTokenSource();
var list = devices.ToList();
// The lease a device was waiting for: the payment's latency runs to here, the lease verified and acknowledged.
await StreamingDevice.StreamAllAsync(list, streamClient, ackClient, (d, _, _) =>
{
    if (!pending.TryRemove(d.Id, out var started)) return;
    var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    var phase = recorder.Current!;
    phase.Latencies.Add(ms);
    if (ms > 50) phase.Slow.Add((Stopwatch.GetElapsedTime(benchStart, started).TotalSeconds, ms));
}, stop.Token);
var connected = list.Count;
await Task.Delay(TimeSpan.FromSeconds(10), time);
var after = Rss(server);
var heapAfter = await LiveHeapAsync(server);
var perStream = (after - before) / (double)connected;
var heapPerStream = heapBefore is { } hb && heapAfter is { } ha ? (ha - hb) / (double)connected : double.NaN;
Console.WriteLine($"streams: {connected} open; server RSS {before / 1048576.0:F0} MiB → {after / 1048576.0:F0} MiB: {perStream / 1024:F1} KiB per idle stream");
// Without dotnet-gcdump there is no live-heap figure: the table says so rather than print NaN.
var heapCell = double.IsNaN(heapPerStream) ? "— (no dotnet-gcdump)" : $"{heapPerStream / 1024:F1}";
Console.WriteLine(double.IsNaN(heapPerStream)
    ? "live managed heap: not measured (dotnet-gcdump is not installed: dotnet tool install -g dotnet-gcdump)"
    : $"live managed heap after a full GC (dotnet-gcdump): {heapBefore / 1048576.0:F1} MiB → {heapAfter / 1048576.0:F1} MiB: {heapPerStream / 1024:F1} KiB per idle stream");

// The heap snapshot forces a full blocking collection and an EventPipe session in the server: let it settle first.
await Task.Delay(TimeSpan.FromSeconds(10), time);

// Payments at a fixed rate to random devices that have no payment in flight: first a warm-up (the server's JIT tiers up
// its payment path; a server that has been running is past this), then the measured run.
var posted = 0;
var failures = 0;
async Task<(Phase Phase, TimeSpan Elapsed)> PaymentsAsync(string name, int seconds)
{
    var phase = new Phase(name);
    recorder.Current = phase;
    var interval = 1.0 / options.Rate;
    var start = Stopwatch.GetTimestamp();
    Console.WriteLine($"{name}: {seconds} s from t={Stopwatch.GetElapsedTime(benchStart, start).TotalSeconds:F1} s ({time.GetUtcNow():HH:mm:ss.fff} UTC; t=0 is {benchStartUtc:HH:mm:ss.fff} UTC)");
    var inFlight = new List<Task>();
    for (var i = 0; i < options.Rate * seconds; i++)
    {
        var due = start + (long)(i * interval * Stopwatch.Frequency);
        var wait = (due - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
        if (wait >= 1) await Task.Delay(TimeSpan.FromMilliseconds(wait), time); // no spinning: the server needs the cores
        StreamingDevice d;
        do d = list[Random.Shared.Next(list.Count)]; while (!pending.TryAdd(d.Id, Stopwatch.GetTimestamp()));
        var txId = $"{name}-{i}";
        Interlocked.Increment(ref phase.Posted);
        inFlight.Add(Task.Run(async () =>
        {
            var r = await api.PostAsJsonAsync("/v1/payments", new { planId = plans[d.Id], amount = 100, currency = "KES", provider = "bench", providerTransactionId = txId });
            if (!r.IsSuccessStatusCode) { Interlocked.Increment(ref failures); pending.TryRemove(d.Id, out _); }
            Interlocked.Increment(ref posted);
        }));
    }
    await Task.WhenAll(inFlight);
    var elapsed = Stopwatch.GetElapsedTime(start);
    for (var i = 0; i < 100 && !pending.IsEmpty; i++) await Task.Delay(TimeSpan.FromMilliseconds(100), time);
    return (phase, elapsed);
}
if (options.Warmup > 0) Report(await PaymentsAsync("warm-up", options.Warmup));

// The simulated devices stand for 10,000 phones with processors of their own: their process's garbage collections are
// not the server's latency, so none runs during the measured window (when the runtime grants the region).
var clientGcs = GC.CollectionCount(0);
var noGc = false;
if (!options.ClientGc)
    try { noGc = GC.TryStartNoGCRegion(240L << 20); }
    catch (ArgumentOutOfRangeException) { }
var (serverCpu0, clientCpu0) = (CpuTime(server), Process.GetCurrentProcess().TotalProcessorTime);
var (measured, measuredElapsed) = await PaymentsAsync("measured", options.Seconds);
var serverCores = (CpuTime(server) - serverCpu0) / measuredElapsed;
var clientCores = (Process.GetCurrentProcess().TotalProcessorTime - clientCpu0) / measuredElapsed;
Console.WriteLine($"CPU during the measured run (2 cores in all): server {serverCores:F2} cores, simulated devices {clientCores:F2} cores");
if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
Console.WriteLine($"simulated devices' process: {(noGc ? "no-GC region" : options.ClientGc ? "collections allowed (--client-gc)" : "no-GC region refused")}, {GC.CollectionCount(0) - clientGcs} collections during the measured run");
stop.Cancel();
var sorted = Report((measured, measuredElapsed));
Console.WriteLine($"| devices | payments/s | applied | p50 ms | p99 ms | max ms | KiB per idle stream (live heap) | KiB per idle stream (RSS) |");
Console.WriteLine($"| {connected} | {measured.Posted / measuredElapsed.TotalSeconds:F0} | {sorted.Length}/{measured.Posted} | {P(sorted, 0.50):F1} | {P(sorted, 0.99):F1} | {sorted.LastOrDefault():F1} | {heapCell} | {perStream / 1024:F1} |");
server.Kill(entireProcessTree: true);
await server.WaitForExitAsync();
try { Directory.Delete(dataDir, true); } catch (IOException) { }
return pending.IsEmpty && failures == 0 ? 0 : 1;

double[] Report((Phase Phase, TimeSpan Elapsed) run)
{
    var (phase, elapsed) = run;
    var sorted = phase.Latencies.Order().ToArray();
    Console.WriteLine($"{phase.Name}: {phase.Posted} posted in {elapsed.TotalSeconds:F1} s ({phase.Posted / elapsed.TotalSeconds:F0}/s), {failures} failed so far, {sorted.Length} applied, {pending.Count} never applied");
    Console.WriteLine($"{phase.Name}: payment-to-applied latency p50 {P(sorted, 0.50):F1} ms, p99 {P(sorted, 0.99):F1} ms, max {sorted.LastOrDefault():F1} ms");
    foreach (var second in phase.Slow.GroupBy(x => (int)x.At).OrderBy(g => g.Key))
        Console.WriteLine($"  slow (> 50 ms) at t={second.Key} s: {second.Count()} payments, worst {second.Max(x => x.Ms):F0} ms");
    return sorted;
}

static double P(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

static Process Run(string dll, Dictionary<string, string> env, string[] args)
{
    var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
    info.ArgumentList.Add(dll);
    foreach (var a in args) info.ArgumentList.Add(a);
    // The simulated devices' own runtime settings (DOTNET_*) are theirs: the server runs with only what --env gives it.
    foreach (var k in info.Environment.Keys.Where(k => k.StartsWith("DOTNET_", StringComparison.Ordinal)).ToList()) info.Environment.Remove(k);
    foreach (var (k, v) in env) info.Environment[k] = v;
    var p = Process.Start(info)!;
    if (args.Length == 0) { p.OutputDataReceived += (_, _) => { }; p.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("server: " + e.Data); }; p.BeginOutputReadLine(); p.BeginErrorReadLine(); }
    return p;
}

static async Task WaitReadyAsync(HttpClient api)
{
    for (var i = 0; i < 600; i++)
    {
        // Ready only after the server's warm-up: nothing is timed against a server still compiling its hot paths. (A
        // server from before /readyz answers it 404: then an API call is the sign, so old builds can be compared.)
        try
        {
            var ready = await api.GetAsync("/readyz");
            if (ready.IsSuccessStatusCode || ready.StatusCode == HttpStatusCode.NotFound && (await api.GetAsync("/v1/lender")).IsSuccessStatusCode) return;
        }
        catch (HttpRequestException) { }
        await Task.Delay(100);
    }
    throw new TimeoutException("server did not start");
}

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

static TimeSpan CpuTime(Process p)
{
    p.Refresh();
    return p.TotalProcessorTime;
}

static long Rss(Process p)
{
    foreach (var line in File.ReadLines($"/proc/{p.Id}/status"))
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    throw new InvalidOperationException("no VmRSS");
}

// Live managed memory: dotnet-gcdump forces a full collection and reports the heap that survives it (null when the tool is absent).
static async Task<long?> LiveHeapAsync(Process p)
{
    var tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "dotnet-gcdump");
    if (!File.Exists(tool)) return null;
    var file = Path.Combine(Path.GetTempPath(), $"lien-{p.Id}-{Guid.NewGuid():N}.gcdump");
    using (var collect = Process.Start(new ProcessStartInfo(tool, ["collect", "-p", p.Id.ToString(CultureInfo.InvariantCulture), "-o", file]) { RedirectStandardOutput = true })!)
    {
        await collect.StandardOutput.ReadToEndAsync();
        await collect.WaitForExitAsync();
    }
    using var report = Process.Start(new ProcessStartInfo(tool, ["report", file]) { RedirectStandardOutput = true })!;
    var text = await report.StandardOutput.ReadToEndAsync();
    await report.WaitForExitAsync();
    File.Delete(file);
    var m = Regex.Match(text, @"([\d,]+)\s+GC Heap bytes");
    return m.Success ? long.Parse(m.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture) : null;
}

/// <summary>One run of payments: what it posted and how long each took to be applied.</summary>
internal sealed class Phase(string name)
{
    public string Name { get; } = name;
    public int Posted;
    public ConcurrentBag<double> Latencies { get; } = [];
    public ConcurrentBag<(double At, double Ms)> Slow { get; } = [];
}

internal sealed class Recorder
{
    public volatile Phase? Current;
}

internal sealed record Args(int Devices, int Rate, int Seconds, int Warmup, string ServerDll, bool WorkstationGc, bool ClientGc)
{
    public static Args Parse(string[] args)
    {
        const string Usage = "--devices N (10000) --rate N (200) --seconds S (30) --warmup S (10) --server-dll PATH --workstation-gc --client-gc --env=KEY=VALUE (to the server)";
        CommandLine.HelpIfAsked(args, Usage);
        string? Get(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        int Whole(string name, int fallback, int min)
        {
            if (Get(name) is not { } text) return fallback;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min)
                CommandLine.Refuse($"{name} takes a whole number of at least {min}, not '{text}'. Options: {Usage}");
            return n;
        }
        return new Args(Whole("--devices", 10000, 1), Whole("--rate", 200, 1), Whole("--seconds", 30, 1), Whole("--warmup", 10, 0),
            Get("--server-dll") ?? Path.GetFullPath("src/Lien.Server/bin/Release/net10.0/Lien.Server.dll"), args.Contains("--workstation-gc"), args.Contains("--client-gc"));
    }
}
