// Enrollments with attestation verified per second (issue #10: ≥ 500/s per core — a factory line enrolls in bursts).
// Starts the real server (Release build) as its own process on a fresh SQLite file (or, with --postgres, a fresh
// PostgreSQL database), trusting a local attestation authority's root (Lien:Attestation:TrustedRoots) and fetching an
// empty status list from a loopback listener here (Lien:Attestation:StatusListUrl); creates an attested lender with
// `lenders create --enrollment attested` and registers --devices devices by CSV import. Then --concurrency workers each
// enroll their own devices back to back, in full as a phone does (PROTOCOL §1): a challenge, a fresh P-256 key, its
// attestation chain from the authority with the challenge and the registered IMEI, the signed request, the enrollment —
// a device enrolling again is a factory re-flash, the same work. Prints throughput, latency, errors, the CPU each side
// used and enrollments per server CPU-second (the per-core figure), and drops the database at the end.
using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lien.Attestation;
using Lien.Bench;
using Lien.Protocol;

var options = BenchOptions.Parse(args, sqliteByDefault: true, (Concurrency: 8, Seconds: 20, Warmup: 5), ["--devices"],
    "--sqlite (the default), --postgres [CS], --concurrency N, --seconds S, --warmup S, --devices N, --server PATH, --env=KEY=VALUE");
var deviceCount = options.Int("--devices", 1000, options.Concurrency); // each worker enrolls devices of its own, never one another's

// The phones' secure hardware: one authority (root, intermediate, attestation key) the server trusts by its root key,
// and a copy of it per worker, so no two threads sign with one key object.
using var authority = AttestationAuthority.Create(TimeProvider.System, "Lien Bench Attestation");
var authorityPem = authority.ExportPem();
var hardware = Enumerable.Range(0, options.Concurrency).Select(_ => AttestationAuthority.ImportPem(authorityPem, TimeProvider.System)).ToArray();
using var statusList = new StatusList();

var rootsFile = Path.Combine(Path.GetTempPath(), $"lien-enrollment-roots-{Guid.NewGuid():N}.pem");
File.WriteAllText(rootsFile, new string(PemEncoding.Write("PUBLIC KEY", authority.RootPublicKey)) + "\n");
try
{
    using var bench = new BenchServer(options, "enrollment",
    [
        new("Lien__Attestation__TrustedRoots", rootsFile),
        new("Lien__Attestation__StatusListUrl", statusList.Url),
        // A factory line enrolls in bursts from one address and re-flashes phones: its operator raises these limits
        // (README, Lien:RateLimits:*); the bench measures enrollment, not the limiter.
        new("Lien__RateLimits__EnrollPerAddress__Limit", "1000000000"),
        new("Lien__RateLimits__ChallengePerAddress__Limit", "1000000000"),
        new("Lien__RateLimits__EnrollPerImei__Limit", "1000000000"),
    ]);
    return await RunAsync(bench);
}
finally
{
    File.Delete(rootsFile);
    foreach (var h in hardware) h.Dispose();
}

async Task<int> RunAsync(BenchServer bench)
{
    Console.WriteLine($"# {options.Store}, {options.Concurrency} workers, {deviceCount} devices, warm-up {options.Warmup} s, measured {options.Seconds} s; server {options.ServerDll}; load average {BenchServer.LoadAverage()}");
    bench.CreateDatabase();
    var apiKey = await bench.CreateLenderAsync("--enrollment", "attested");
    using var api = await bench.StartAsync(apiKey);
    using var phones = bench.NewClient();

    var setup = Stopwatch.StartNew();
    var devices = await BenchServer.ImportDevicesAsync(api, deviceCount);
    Console.WriteLine($"setup: {devices.Length} devices imported in {setup.Elapsed.TotalSeconds:F1} s");

    // The bar is in force: the same enrollment without its attestation chain is refused.
    var unattested = await EnrollAsync(0, devices[0], attest: false);
    if (unattested.Status != 403) throw new InvalidOperationException($"an enrollment without attestation answered {unattested.Status}, not 403: {unattested.Problem}");
    Console.WriteLine("an enrollment without an attestation chain is refused (403): the lender's policy is attested");
    // The server fetches the status list at the first attested enrollment, and answers 503 to those that come while the
    // fetch is in flight: one enrollment first, alone, so the run measures enrollments and not the first fetch.
    var first = await EnrollAsync(0, devices[0], attest: true);
    if (first.Status != 200) throw new InvalidOperationException($"the first attested enrollment answered {first.Status}: {first.Problem}");
    Console.WriteLine($"first attested enrollment (fetching the status list) in {first.Ms:F0} ms");

    var next = new int[options.Concurrency];
    var loop = new ClosedLoop(bench, options, new Work("enrollment", "enrollments", "completed", 200));
    await loop.RunAsync(worker =>
    {
        // Worker w enrolls devices w, w + c, w + 2c, … in turn: a device is never enrolled by two workers at once.
        var owned = (devices.Length - worker + options.Concurrency - 1) / options.Concurrency;
        var device = devices[worker + next[worker]++ % owned * options.Concurrency];
        return EnrollAsync(worker, device, attest: true);
    });

    var measured = loop.Measured;
    Console.WriteLine($"measured, per enrollment on average: {string.Join(", ", measured.Stages.Select(s => $"{s.Stage} {s.MeanMs:F2} ms"))}");
    Console.WriteLine($"measured: {measured.PerServerCpuSecond:F0} enrollments per server CPU-second ({measured.ServerMsPerUnit:F2} ms each); " +
                      $"the bench's own CPU (keys, chains, signatures, HTTP) {measured.BenchCores:F2} cores, {measured.BenchMsPerUnit:F2} ms per enrollment");
    Console.WriteLine($"status list fetched {statusList.Fetches} times by the server");
    Console.WriteLine($"load average at the end {BenchServer.LoadAverage()} ({Environment.ProcessorCount} cores; other processes share them)");
    bench.Log.Print();

    Console.WriteLine();
    Console.WriteLine("| store | concurrency | enrollments/s | p50 ms | p99 ms | max ms | errors | server CPU (cores) | server CPU ms per enrollment | enrollments per server CPU-second | bench CPU (cores) |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    Console.WriteLine($"| {options.Store} | {options.Concurrency} | {measured.PerSecond:F0} | {measured.P(0.50):F1} | {measured.P(0.99):F1} | {measured.P(1):F1} | {measured.Errors} | " +
                      $"{measured.ServerCores:F2} | {measured.ServerMsPerUnit:F2} | {measured.PerServerCpuSecond:F0} | {measured.BenchCores:F2} |");
    return loop.Errors == 0 && measured.Done > 0 && bench.Log.Errors == 0 ? 0 : 1;

    // One enrollment in full, as a phone makes it; its latency is from asking for the challenge to the answer.
    async Task<Attempt> EnrollAsync(int worker, (string Imei, Guid Id) device, bool attest)
    {
        var t0 = Stopwatch.GetTimestamp();
        using var challengeBody = new StringContent("{}", Encoding.UTF8, "application/json");
        var (status, body) = await Attempt.SendAsync(() => phones.PostAsync("/v1/device/enroll/challenge", challengeBody), readBody: true);
        var t1 = Stopwatch.GetTimestamp();
        if (status != 200) return new Attempt(status, Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds, "challenge: " + body, device.Imei);
        var challenge = JsonSerializer.Deserialize<EnrollmentChallenge>(body!, LeaseClaims.Json)!;

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var chain = attest
            ? hardware[worker].Issue(new AttestationRequest(key.ExportSubjectPublicKeyInfo(), Base64Url.DecodeFromChars(challenge.Challenge)) { Imei = device.Imei })
                .Select(Convert.ToBase64String).ToList()
            : null;
        var request = EnrollmentProof.Sign([device.Imei], key, challenge.ServerTime.ToUnixTimeSeconds(), EnrollmentProof.NewNonce(), challenge.Challenge, chain);
        var t2 = Stopwatch.GetTimestamp();

        (status, body) = await Attempt.SendAsync(() => phones.PostAsJsonAsync("/v1/device/enroll", request), readBody: true);
        var t3 = Stopwatch.GetTimestamp();
        string? problem = status == 200 ? null : "enroll: " + body;
        if (status == 200 && JsonSerializer.Deserialize<EnrollResponse>(body!, LeaseClaims.Json) is var answer
            && (answer?.DeviceId != device.Id || answer.Nonce != request.Nonce || answer.Lease.Length == 0))
        {
            // A 200 that is not this device's enrollment answer counts as an error.
            problem = $"enroll: answered 200 for device {answer?.DeviceId} with nonce {answer?.Nonce}, not {device.Id} with {request.Nonce}";
            status = -1;
        }
        return new Attempt(status, Stopwatch.GetElapsedTime(t0, t3).TotalMilliseconds, problem, device.Imei,
        [
            ("challenge request", Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds),
            ("phone side (key, attestation chain, signature)", Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds),
            ("enroll request", Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds),
        ]);
    }
}

/// <summary>The attestation status list the server fetches: empty (nothing revoked), served on a loopback port of its own.</summary>
internal sealed class StatusList : IDisposable
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"entries":{}}""");
    private readonly HttpListener listener = new();
    private int fetches;

    public StatusList()
    {
        var prefix = $"http://127.0.0.1:{BenchServer.FreePort()}/";
        listener.Prefixes.Add(prefix);
        listener.Start();
        Url = prefix + "attestation/status";
        _ = Task.Run(ServeAsync);
    }

    public string Url { get; }

    public int Fetches => Volatile.Read(ref fetches);

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            Interlocked.Increment(ref fetches);
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = Body.Length;
            await context.Response.OutputStream.WriteAsync(Body);
            context.Response.Close();
        }
    }

    public void Dispose() => listener.Close();
}
