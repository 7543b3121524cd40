// Payments per second for one lender (issue: ≥ 500 payments/s on PostgreSQL, no errors, on a 2-core machine).
// Starts the real server (Release build) as its own process on a fresh PostgreSQL database (or, with --sqlite, a fresh
// SQLite file), creates a lender with the server's `lenders create` command, registers --plans devices by CSV import
// and gives each a plan that payments never pay off; then --concurrency workers each post payments back to back to
// random plans, first for a warm-up, then for the measured window. Prints throughput, latency, errors and the CPU each
// side used, checks the ledger against the answers, and drops the database at the end.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lien.Bench;

var options = BenchOptions.Parse(args, sqliteByDefault: false, (Concurrency: 32, Seconds: 30, Warmup: 10), ["--plans"],
    "--postgres CS, --concurrency N, --seconds S, --warmup S, --plans N, --server PATH, --sqlite, --env=KEY=VALUE");
var planCount = options.Int("--plans", 200, 1);
var time = TimeProvider.System;
using var bench = new BenchServer(options, "payments", []);
return await RunAsync();

async Task<int> RunAsync()
{
    Console.WriteLine($"# {options.Store}, {options.Concurrency} workers, {planCount} plans, warm-up {options.Warmup} s, measured {options.Seconds} s; server {options.ServerDll}; load average {BenchServer.LoadAverage()}");
    bench.CreateDatabase();
    var apiKey = await bench.CreateLenderAsync();
    using var api = await bench.StartAsync(apiKey);

    // Devices by CSV import, then one plan each: a single installment of KES 10,000,000.00 due in 60 days, so the
    // payments of the run (100 minor units each) never pay a plan off and every payment does the same work.
    var setup = Stopwatch.StartNew();
    var deviceIds = (await BenchServer.ImportDevicesAsync(api, planCount)).Select(d => d.Id).ToList();
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
    var sequence = 0L;
    var prefix = Guid.NewGuid().ToString("N")[..8];

    // Each worker posts its next payment as soon as its last is answered, to a random plan; answers after the measured
    // window count only in the ledger check.
    var loop = new ClosedLoop(bench, options, new Work("payment", "payments", "recorded", 201));
    await loop.RunAsync(async _ =>
    {
        var tx = $"{prefix}-{Interlocked.Increment(ref sequence)}";
        var plan = plans[Random.Shared.Next(plans.Length)];
        var body = $$"""{"planId":"{{plan}}","amount":100,"currency":"KES","provider":"bench","providerTransactionId":"{{tx}}"}""";
        var t0 = Stopwatch.GetTimestamp();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var (status, problem) = await Attempt.SendAsync(() => api.PostAsync("/v1/payments", content));
        var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        if (status == 201) recorded[tx] = plan;
        return new Attempt(status, ms, problem, tx);
    });

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

    Console.WriteLine($"load average at the end {BenchServer.LoadAverage()} ({Environment.ProcessorCount} cores; other processes share them)");
    bench.Log.Print();

    var measured = loop.Measured;
    Console.WriteLine();
    Console.WriteLine("| store | concurrency | payments/s | p50 ms | p99 ms | max ms | errors | server CPU (cores) | server CPU ms per payment |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    Console.WriteLine($"| {options.Store} | {options.Concurrency} | {measured.PerSecond:F0} | {measured.P(0.50):F1} | {measured.P(0.99):F1} | {measured.P(1):F1} | {measured.Errors} | {measured.ServerCores:F2} | {measured.ServerMsPerUnit:F2} |");
    return loop.Errors == 0 && ledgerMatches && bench.Log.Errors == 0 ? 0 : 1;
}
