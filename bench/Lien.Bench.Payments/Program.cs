// Payments per second for one lender, every one of them signed into a lease and delivered to a streaming device
// (issue #11). Starts the real server (Release build) as its own process on a fresh PostgreSQL database (or, with
// --sqlite, a fresh SQLite file); creates a lender with the server's `lenders create --enrollment open` (the devices
// enroll without attestation, whose cost is bench/Lien.Bench.Enrollment's subject); registers --devices devices by CSV
// import, gives each a plan of daily installments first due tomorrow, enrolls each and opens its lease stream as the
// agent does (verifying and acknowledging every lease it is sent). Then --concurrency workers each pay their own plans
// in turn, every payment exactly the plan's next installment, so the plan's next due date moves and the server signs a
// new lease and pushes it down the device's stream: first for a warm-up, then for the measured window. Prints
// throughput, latency, errors, the CPU each side used and the time from each payment's answer to its lease arriving on
// the stream; checks the ledger against the answers and that every device holds the lease of the last payment it was
// paid; drops the database at the end. With --timeline CSV it also writes each payment's start and latency there.
//
// Built as bench/Lien.Bench.Mpesa (the constant MPESA), the same run pays by M-Pesa instead: every payment arrives as a
// Daraja C2B confirmation posted to the lender's confirmation URL (path secret and all) naming the plan's reference as
// the account, answered {"ResultCode":0,…} — the callback's reading, matching and amount parsing on top of the ledger.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lien.Bench;
using Lien.Protocol.Lending;

var options = BenchOptions.Parse(args, sqliteByDefault: false, (Concurrency: 32, Seconds: 30, Warmup: 10), ["--devices", "--installments", "--max-rate", "--timeline"],
    "--postgres [CS], --sqlite, --concurrency N, --seconds S, --warmup S, --devices N, --installments N, --max-rate N, --timeline CSV, --server PATH, --env=KEY=VALUE");
// --timeline: every answered payment's start (ms from the first) and latency, for finding stalls that recur (a p99 made
// by something the server does each second shows as the slow payments' starts falling in one tenth of each second).
var timeline = options.Values.GetValueOrDefault("--timeline") is { } timelinePath ? (Path: timelinePath, Rows: new ConcurrentQueue<(long Start, double Ms)>()) : default;
var deviceCount = options.Int("--devices", 1024, options.Concurrency); // each worker pays plans of its own, never another's
var maxRate = options.Int("--max-rate", 1500, 1);
const long InstallmentAmount = 5_000; // KES 50.00 a day

// A payment's work grows with its plan's installments (its payments are allocated over the whole schedule), so the
// count is fixed (--installments, a year of daily payments by default, as devices are financed) unless the run needs more: at --max-rate
// payments/s, spread over the workers and over the fewest plans a worker owns, no plan may be paid off before the
// window ends — its last installment always stays unpaid.
var needed = (int)Math.Ceiling((double)maxRate * (options.Warmup + options.Seconds) / options.Concurrency / (deviceCount / options.Concurrency)) + 1;
var installments = Math.Max(options.Int("--installments", 365, 2), needed);
if (installments > Schedule.MaxInstallments)
    throw new ArgumentException($"{maxRate} payments/s for {options.Warmup + options.Seconds} s would need {installments} installments a plan, more than a plan may have " +
                                $"({Schedule.MaxInstallments}): give more --devices, fewer seconds or a lower --max-rate");

#if MPESA
var viaMpesa = true;
#else
var viaMpesa = false;
#endif
var (one, many, success) = viaMpesa ? ("confirmation", "confirmations", 200) : ("payment", "payments", 201);
var time = TimeProvider.System;
using var bench = new BenchServer(options, many,
[
    // Every simulated phone enrolls from this one address, and each is paid (and acknowledges a lease) far more often
    // than a borrower's: the bench measures payments, not the limiter.
    new("Lien__RateLimits__EnrollPerAddress__Limit", "1000000000"),
    new("Lien__RateLimits__ChallengePerAddress__Limit", "1000000000"),
    new("Lien__RateLimits__DevicePerDevice__Limit", "1000000000"),
]);
var exit = await RunAsync();
if (timeline.Rows is { IsEmpty: false } rows)
{
    var first = rows.Min(r => r.Start);
    File.WriteAllLines(timeline.Path, ["started_ms,latency_ms", .. rows.OrderBy(r => r.Start)
        .Select(r => string.Create(CultureInfo.InvariantCulture, $"{Stopwatch.GetElapsedTime(first, r.Start).TotalMilliseconds:F1},{r.Ms:F2}"))]);
    Console.WriteLine($"timeline: {rows.Count:N0} payments (warm-up included) in {timeline.Path}");
}
return exit;

async Task<int> RunAsync()
{
    Console.WriteLine($"# {options.Store}, {options.Concurrency} workers, {deviceCount} devices streaming, warm-up {options.Warmup} s, measured {options.Seconds} s; " +
                      $"server {options.ServerDll}; load average {BenchServer.LoadAverage()}");
    bench.CreateDatabase();
    var apiKey = await bench.CreateLenderAsync("--enrollment", "open");
    using var api = await bench.StartAsync(apiKey);
    using var phones = bench.NewClient(connections: 64); // the devices' enrollments and acknowledgements
    using var streamClient = bench.NewStreamClient();

    // Devices by CSV import; a plan each of daily installments, the first due tomorrow in the lender's time zone, so the
    // plan is current and each payment of one installment moves its next due date a day on.
    var setup = Stopwatch.StartNew();
    var registered = await BenchServer.ImportDevicesAsync(api, deviceCount);
    var nairobi = TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi");
    var firstDue = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), nairobi).DateTime).AddDays(1);
    var imported = setup.Elapsed;
    var planOf = new Dictionary<Guid, Guid>();
    var referenceOf = new Dictionary<Guid, string>();
    await Parallel.ForEachAsync(registered, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (device, ct) =>
    {
        using var r = await api.PostAsJsonAsync("/v1/plans", new
        {
            deviceId = device.Id,
            borrowerReference = "bench",
            price = InstallmentAmount * installments,
            downPayment = 0L,
            generate = new { count = installments, frequency = "Daily", firstDueDate = firstDue },
        }, ct);
        if (r.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"plan: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(ct)}");
        var created = await r.Content.ReadFromJsonAsync<JsonElement>(ct);
        var plan = created.GetProperty("id").GetGuid();
        lock (planOf) (planOf[device.Id], referenceOf[plan]) = (plan, created.GetProperty("reference").GetString()!);
    });
    var planned = setup.Elapsed;
    var enrolled = new List<StreamingDevice>();
    await Parallel.ForEachAsync(registered, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (device, ct) =>
    {
        var phone = await StreamingDevice.EnrollAsync(phones, device.Imei, ct);
        lock (enrolled) enrolled.Add(phone);
    });
    var enrolledIn = setup.Elapsed;
    var accounts = enrolled.Select(d => new Account(d, planOf[d.Id])).ToArray();
    var byDevice = accounts.ToDictionary(a => a.Device.Id);
    using var stop = new CancellationTokenSource();
    var readers = await StreamingDevice.StreamAllAsync(enrolled, streamClient, phones, (d, seq, readAt) => byDevice[d.Id].Delivered(seq, readAt), stop.Token);
    Console.WriteLine($"setup: {accounts.Length} devices imported, planned ({installments} daily installments of {InstallmentAmount} minor units, the first due {firstDue:yyyy-MM-dd}" +
                      $"{(installments == needed ? $", as many as {maxRate} payments/s need" : "")}), " +
                      $"enrolled and streaming in {setup.Elapsed.TotalSeconds:F1} s (import {imported.TotalSeconds:F1} s, plans {(planned - imported).TotalSeconds:F1} s, " +
                      $"enrollments {(enrolledIn - planned).TotalSeconds:F1} s, streams {(setup.Elapsed - enrolledIn).TotalSeconds:F1} s); " +
                      "enrollment policy open (no attestation: bench/Lien.Bench.Enrollment measures that)");

    // M-Pesa: the lender's Daraja settings (never called: confirmations only come in), and its confirmation URL.
    var confirmationUrl = "";
    if (viaMpesa)
    {
        using var put = await api.PutAsJsonAsync("/v1/lender/mpesa", new
        {
            shortCode = "600638", consumerKey = "bench", consumerSecret = "bench", passkey = "bench", callbackBaseUrl = api.BaseAddress!.ToString(),
        });
        if (put.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"mpesa settings: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        confirmationUrl = (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("callbackUrls").GetProperty("confirmation").GetString()!;
    }
    var amountText = $"{InstallmentAmount / 100}.{InstallmentAmount % 100:D2}";

    var recorded = new ConcurrentDictionary<string, Guid>(); // providerTransactionId → plan, for every payment answered 201
    var sequence = 0L;
    var noNewLease = 0;
    var prefix = Guid.NewGuid().ToString("N")[..8];
    var loop = new ClosedLoop(bench, options, new Work(one, many, "recorded", success));
    var delivery = new[] { loop.Warmup, loop.Measured, loop.Drain }.ToDictionary(p => p, _ => new Deliveries());

    // Worker w owns plans w, w + c, w + 2c, … and pays them in turn, one installment each, so no two workers pay one plan
    // and a plan's payments never race each other; answers after the measured window count only in the checks.
    var owned = Enumerable.Range(0, options.Concurrency).Select(w => accounts.Where((_, i) => i % options.Concurrency == w).ToArray()).ToArray();
    var turn = new int[options.Concurrency];
    await loop.RunAsync(async worker =>
    {
        Account? account = null;
        for (var tried = 0; tried < owned[worker].Length && account is null; tried++)
            if (owned[worker][turn[worker]++ % owned[worker].Length] is var next && next.Payments < installments - 1) account = next;
        if (account is null)
        {
            await Task.Delay(100);
            return new Attempt(-1, 0, $"worker {worker}'s plans are all paid up to their last installment: give more --devices or a higher --max-rate", $"worker {worker}");
        }
        var tx = $"{prefix}-{Interlocked.Increment(ref sequence)}";
        var body = viaMpesa
            ? $$"""{"TransactionType":"Pay Bill","TransID":"{{tx}}","TransTime":"{{TimeZoneInfo.ConvertTime(time.GetUtcNow(), nairobi):yyyyMMddHHmmss}}","TransAmount":"{{amountText}}","BusinessShortCode":"600638","BillRefNumber":"{{referenceOf[account.PlanId]}}","InvoiceNumber":"","OrgAccountBalance":"","ThirdPartyTransID":"","MSISDN":"2547 ***** 149","FirstName":"Bench","MiddleName":"","LastName":"Payer"}"""
            : $$"""{"planId":"{{account.PlanId}}","amount":{{InstallmentAmount}},"currency":"KES","provider":"bench","providerTransactionId":"{{tx}}"}""";
        var t0 = Stopwatch.GetTimestamp();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var (status, answer) = await Attempt.SendAsync(() => api.PostAsync(viaMpesa ? confirmationUrl : "/v1/payments", content), readBody: true);
        var answeredAt = Stopwatch.GetTimestamp();
        var ms = Stopwatch.GetElapsedTime(t0, answeredAt).TotalMilliseconds;
        timeline.Rows?.Enqueue((t0, ms));
        if (status != success) return new Attempt(status, ms, answer, tx);
        recorded[tx] = account.PlanId;
        // Daraja's answer carries no lease: the plan is only this worker's, so its payment's lease is the next seq.
        long seq;
        if (viaMpesa) seq = account.PaidSeq + 1;
        else
        {
            using var view = JsonDocument.Parse(answer!);
            seq = view.RootElement.GetProperty("leaseSeq").GetInt64();
        }
        if (!account.Paid(seq, answeredAt, delivery[loop.PhaseAt(answeredAt)])) Interlocked.Increment(ref noNewLease);
        return new Attempt(status, ms, null, tx);
    });

    // The leases of the last answers may still be on their way: wait for them (acknowledged, too), then close the streams.
    var settling = Stopwatch.StartNew();
    while (accounts.Any(a => a.DeliveredSeq < a.PaidSeq) && settling.Elapsed < TimeSpan.FromSeconds(15)) await Task.Delay(50);
    var ended = readers.Where(r => r.IsCompleted).ToList();
    await stop.CancelAsync();
    await Task.WhenAll(readers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    if (ended.Count > 0)
        Console.WriteLine($"STREAMS ENDED EARLY: {ended.Count} of {readers.Length} before the bench closed them" +
                          (ended.FirstOrDefault(r => r.IsFaulted) is { } failed ? $", e.g. {failed.Exception!.InnerException!.Message}" : " (the server closed them)"));

    // The ledger against the answers: every payment answered 201 is recorded once, on its plan, and nothing else is.
    // The leases against the ledger: each payment moved its device's lease one seq on, and the device holds (and has
    // acknowledged) that lease, delivered over its stream.
    var inLedger = new ConcurrentDictionary<string, Guid>();
    var (duplicates, paidMismatches, seqMismatches, notHeld, notAcknowledged) = (0, 0, 0, 0, 0);
    await Parallel.ForEachAsync(accounts, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (account, ct) =>
    {
        var rows = await api.GetFromJsonAsync<JsonElement>($"/v1/plans/{account.PlanId}/payments", ct);
        long sum = 0;
        foreach (var row in rows.EnumerateArray())
        {
            sum += row.GetProperty("amount").GetInt64();
            if (!inLedger.TryAdd(row.GetProperty("providerTransactionId").GetString()!, account.PlanId)) Interlocked.Increment(ref duplicates);
        }
        var paid = (await api.GetFromJsonAsync<JsonElement>($"/v1/plans/{account.PlanId}", ct)).GetProperty("paid").GetInt64();
        if (paid != sum) Interlocked.Increment(ref paidMismatches);
        var device = await api.GetFromJsonAsync<JsonElement>($"/v1/devices/{account.Device.Id}", ct);
        var leaseSeq = device.GetProperty("leaseSeq").GetInt64();
        if (leaseSeq != account.Device.EnrolledSeq + rows.GetArrayLength()) Interlocked.Increment(ref seqMismatches);
        if (account.PaidSeq != leaseSeq || account.DeliveredSeq != leaseSeq) Interlocked.Increment(ref notHeld);
        if (device.GetProperty("appliedSeq").GetInt64() != leaseSeq) Interlocked.Increment(ref notAcknowledged);
    });
    var missing = recorded.Count(kv => !inLedger.TryGetValue(kv.Key, out var p) || p != kv.Value);
    var extra = inLedger.Keys.Count(k => !recorded.ContainsKey(k));
    var ledgerMatches = missing == 0 && extra == 0 && duplicates == 0 && paidMismatches == 0;
    Console.WriteLine(ledgerMatches
        ? $"ledger matches: {recorded.Count} {many} answered {success} (warm-up and measured), {inLedger.Count} in the ledger across {accounts.Length} plans, each plan's paid total the sum of its payments"
        : $"LEDGER MISMATCH: {recorded.Count} answered {success}, {inLedger.Count} in the ledger; {missing} answered but not recorded on their plan, {extra} recorded but not answered {success}, {duplicates} duplicates, {paidMismatches} plans whose paid total is not the sum of their payments");
    var leasesHold = noNewLease == 0 && seqMismatches == 0 && notHeld == 0 && notAcknowledged == 0;
    var held = accounts.Length - notHeld;
    Console.WriteLine(leasesHold
        ? $"leases match: every payment signed a new lease (each device's seq moved on once per payment in the ledger), and all {accounts.Length} devices hold the lease of the last payment they were paid, delivered over their stream and acknowledged"
        : $"LEASE MISMATCH: {noNewLease} payments answered with no new lease, {seqMismatches} devices whose seq did not move on once per payment, " +
          $"{notHeld} devices that do not hold the lease of their last payment (the server's seq), {notAcknowledged} whose last lease the server has not seen acknowledged");
    foreach (var phase in new[] { loop.Warmup, loop.Measured, loop.Drain }.Where(p => delivery[p].Ms.Count > 0))
        Console.WriteLine($"{phase.Name}: {delivery[phase].Summary}");
    Console.WriteLine($"server CPU per payment covers the payment, its lease (signed, written to the stream) and the device's acknowledgement of it; " +
                      $"the simulated devices and the posters (the bench) took {loop.Measured.BenchCores:F2} cores");
    Console.WriteLine($"load average at the end {BenchServer.LoadAverage()} ({Environment.ProcessorCount} cores; other processes share them)");
    bench.Log.Print();

    var measured = loop.Measured;
    var delivered = delivery[measured].Ms;
    Console.WriteLine();
    Console.WriteLine($"| store | concurrency | {many}/s | p50 ms | p99 ms | max ms | errors | server CPU (cores) | server CPU ms per {one} | devices streaming | lease delivered p50 ms | lease delivered p99 ms | last lease held |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    Console.WriteLine($"| {options.Store} | {options.Concurrency} | {measured.PerSecond:F0} | {measured.P(0.50):F1} | {measured.P(0.99):F1} | {measured.P(1):F1} | {measured.Errors} | " +
                      $"{measured.ServerCores:F2} | {measured.ServerMsPerUnit:F2} | {accounts.Length - ended.Count} | {delivered.P(0.50):F1} | {delivered.P(0.99):F1} | {held}/{accounts.Length} |");
    return loop.Errors == 0 && ledgerMatches && leasesHold && ended.Count == 0 && bench.Log.Errors == 0 ? 0 : 1;
}

/// <summary>
/// One device and its plan as the bench pays it: what its worker was answered (how many payments, the seq of the lease
/// the last one issued) and the stream's leases matched to those answers, for the time from answer to delivery.
/// </summary>
internal sealed class Account(StreamingDevice device, Guid planId)
{
    private readonly Lock _lock = new();
    private readonly Queue<(long Seq, long AnsweredAt, Deliveries Into)> _awaited = new();
    private long _deliveredSeq = device.EnrolledSeq;

    public StreamingDevice Device { get; } = device;
    public Guid PlanId { get; } = planId;

    /// <summary>Payments answered 201 (only its worker pays the plan).</summary>
    public int Payments { get; private set; }

    /// <summary>The seq of the lease the last payment answered 201 named; the enrollment's before any.</summary>
    public long PaidSeq { get; private set; } = device.EnrolledSeq;

    /// <summary>The newest lease the stream delivered, verified and acknowledged.</summary>
    public long DeliveredSeq
    {
        get { lock (_lock) return _deliveredSeq; }
    }

    /// <summary>A payment answered 201 at <paramref name="answeredAt"/> naming lease <paramref name="seq"/>; false when that lease is not a new one.</summary>
    public bool Paid(long seq, long answeredAt, Deliveries into)
    {
        Payments++;
        var fresh = seq > PaidSeq;
        PaidSeq = Math.Max(PaidSeq, seq);
        lock (_lock)
        {
            if (_deliveredSeq >= seq) into.Early(); // the stream was quicker than the answer
            else _awaited.Enqueue((seq, answeredAt, into));
        }
        return fresh;
    }

    /// <summary>The stream delivered lease <paramref name="seq"/>, its event read at <paramref name="readAt"/>: it settles every answer up to it.</summary>
    public void Delivered(long seq, long readAt)
    {
        lock (_lock)
        {
            _deliveredSeq = Math.Max(_deliveredSeq, seq);
            while (_awaited.TryPeek(out var a) && a.Seq <= seq)
            {
                _awaited.Dequeue();
                a.Into.Ms.Add(Stopwatch.GetElapsedTime(a.AnsweredAt, readAt).TotalMilliseconds);
            }
        }
    }
}

/// <summary>Per phase: how long after each payment's 201 its lease arrived on the device's stream.</summary>
internal sealed class Deliveries
{
    private int _early;

    public Samples Ms { get; } = new();

    /// <summary>The lease was on the stream before the bench had read its payment's answer: counted as 0 ms.</summary>
    public void Early()
    {
        Interlocked.Increment(ref _early);
        Ms.Add(0);
    }

    public string Summary =>
        $"{Ms.Count:N0} leases delivered over the streams; from the payment's 201 to the lease's event p50 {Ms.P(0.50):F1} ms, p99 {Ms.P(0.99):F1} ms, max {Ms.P(1):F1} ms " +
        $"({Volatile.Read(ref _early):N0} arrived before the bench had read the 201, counted as 0 ms)";
}
