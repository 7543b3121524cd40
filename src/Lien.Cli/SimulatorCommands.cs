using System.CommandLine;
using System.Globalization;
using Lien.Agent;
using Lien.Attestation;
using Lien.Cli.Client;
using Lien.Protocol;

namespace Lien.Cli;

/// <summary>
/// <c>lien simulate</c>: virtual devices, each a real <see cref="AgentRuntime"/> over real HTTP against a server. Registers
/// devices and plans through the lender API, runs the agents, and prints the fleet's state; or, with <c>--watch IMEI</c>,
/// shows one device's lock screen live, as its borrower would see it.
/// </summary>
internal static class SimulatorCommands
{
    public static Command Create()
    {
        var devices = new Option<int>("--devices") { Description = "How many devices to register and run", DefaultValueFactory = _ => 3 };
        var overdue = new Option<int?>("--overdue") { Description = "How many of them get an overdue plan (locked); default half" };
        var duration = new Option<string>("--duration") { Description = "How long the devices run (30s, 5m, 1h)", DefaultValueFactory = _ => "30s" };
        var interval = new Option<string>("--interval") { Description = "Status line every … (5s)", DefaultValueFactory = _ => "5s" };
        var payAfter = new Option<string?>("--pay-after") { Description = "After this long, pay the overdue plans in full and press Refresh on those devices" };
        var watch = new Option<string?>("--watch") { Description = "Run one agent for this (registered) IMEI and show its lock screen live" };
        var attestWith = new Option<FileInfo?>("--attest-with")
        {
            Description = "A test attestation authority (lien attestation authority) the phones attest their keys with; the server must trust its root (Lien:Attestation:TrustedRoots)",
        };
        var command = new Command("simulate", "Run virtual devices (each a real agent) against the server") { devices, overdue, duration, interval, payAfter, watch, attestWith };
        command.SetAction(async (r, ct) =>
        {
            var output = r.InvocationConfiguration.Output;
            var error = r.InvocationConfiguration.Error;
            if (!Uri.TryCreate(r.GetValue<string>("--server"), UriKind.Absolute, out var server))
            {
                await error.WriteLineAsync("error: --server must be an absolute URL such as http://localhost:5080");
                return 2;
            }
            if (Duration(r.GetValue(duration)) is not { } runFor || Duration(r.GetValue(interval)) is not { } every
                || (r.GetValue(payAfter) is { } p && Duration(p) is null))
            {
                await error.WriteLineAsync("error: durations are a number and a unit: 30s, 5m, 1h");
                return 2;
            }
            IKeyAttestation? hardware = null;
            if (r.GetValue(attestWith) is { } authorityFile)
            {
                try
                {
                    hardware = new AuthorityAttestation(AttestationAuthority.ImportPem(await File.ReadAllTextAsync(authorityFile.FullName, ct), TimeProvider.System));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or System.Security.Cryptography.CryptographicException)
                {
                    await error.WriteLineAsync($"error: --attest-with {authorityFile.FullName} is not an attestation authority (lien attestation authority makes one): {e.Message}");
                    return 2;
                }
            }
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            // One client for the lender API, one shared by the agents (each request carries its own device token).
            using var api = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(100) };
            using var http = new HttpClient { BaseAddress = server };
            try
            {
                if (r.GetValue(watch) is { } imei)
                {
                    stop.CancelAfter(runFor);
                    return await WatchAsync(http, imei, every, hardware, output, error, stop.Token);
                }
                var count = r.GetValue(devices);
                if (count is < 1 or > 10_000)
                {
                    await error.WriteLineAsync("error: --devices must be between 1 and 10000");
                    return 2;
                }
                var client = new LienClient(api, r.GetValue<string?>("--key"));
                var fleet = await RegisterAsync(client, count, Math.Clamp(r.GetValue(overdue) ?? count / 2, 0, count), hardware is not null, output, stop.Token);
                stop.CancelAfter(runFor); // --duration is how long the devices run, after they are registered
                await RunAsync(http, client, fleet, every, r.GetValue(payAfter) is { } pay ? Duration(pay) : null, hardware, output, stop.Token);
                return 0;
            }
            catch (LienApiException e)
            {
                await error.WriteLineAsync($"error: {e.Title}{(e.Detail is null ? "" : ": " + e.Detail)}");
                return 1;
            }
            catch (HttpRequestException e)
            {
                await error.WriteLineAsync($"error: cannot reach {server}: {e.Message}");
                return 1;
            }
            catch (UserError e)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private sealed record SimDevice(string Imei, Guid PlanId, bool Overdue, long OverdueAmount, string Currency, string? EnrollmentToken)
    {
        public AgentRuntime? Agent { get; set; }
    }

    private static async Task<List<SimDevice>> RegisterAsync(LienClient client, int count, int overdue, bool attested, TextWriter output, CancellationToken ct)
    {
        var lender = await client.GetLenderAsync(ct);
        if (lender.Settings.EnrollmentPolicy == "Attested" && !attested)
            throw new UserError($"{lender.Settings.Name} enrolls only phones with hardware key attestation, which simulated phones do not have " +
                                "unless --attest-with names a test attestation authority the server trusts (lien attestation authority). " +
                                "Or simulate against a lender whose enrollment policy is EnrollmentToken (each phone gets a token, as from its QR code) or Open.");
        var currency = lender.Settings.Currency ?? "KES";
        var each = 1_450 * (long)Math.Pow(10, Currencies.Exponent(currency) ?? 2);
        var today = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);
        var fleet = new List<SimDevice>(count);
        for (var i = 0; i < count; i++)
        {
            var imei = NewImei();
            var device = await client.RegisterDeviceAsync(new RegisterDevice(imei, Serial: $"SIM-{i + 1}", Make: "Simulated", Model: "Agent"), ct);
            var late = i < overdue;
            // Overdue: the first installment fell due 10 days ago, past any grace. Current: it falls due in 20 days.
            var plan = await client.CreatePlanAsync(new CreatePlan(device.Id, 3 * each, Currency: currency, BorrowerReference: $"sim-{i + 1}",
                Generate: new GenerateSchedule(3, Frequency.Monthly, today.AddDays(late ? -10 : 20)), Backdated: late ? true : null), ct);
            // Under the enrollment-token policy each phone gets its one-time token, as a borrower's phone scans it at the shop.
            var token = lender.Settings.EnrollmentPolicy == "EnrollmentToken" ? (await client.IssueEnrollmentTokenAsync(device.Id, ct)).Token : null;
            fleet.Add(new SimDevice(imei, plan.Id, late, plan.AmountOverdue, currency, token));
        }
        await output.WriteLineAsync($"registered {count} devices with {lender.Settings.Name} ({overdue} overdue)");
        return fleet;
    }

    private static async Task RunAsync(HttpClient http, LienClient client, List<SimDevice> fleet, TimeSpan every, TimeSpan? payAfter, IKeyAttestation? hardware,
        TextWriter output, CancellationToken ct)
    {
        var started = TimeProvider.System.GetTimestamp();
        var runs = fleet.Select(d =>
        {
            d.Agent = NewAgent(http, d.Imei, d.EnrollmentToken, hardware);
            return d.Agent.RunAsync(ct);
        }).ToList();
        var paying = payAfter is { } after ? PayLaterAsync(client, fleet, after, output, ct) : Task.CompletedTask;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(every, TimeProvider.System, ct);
                await output.WriteLineAsync(Status(fleet, TimeProvider.System.GetElapsedTime(started)));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        await Task.WhenAll(runs);
        await paying;
        await output.WriteLineAsync("final " + Status(fleet, TimeProvider.System.GetElapsedTime(started)));
    }

    // The lender's payments arrive: each overdue plan is paid, and its borrower presses Refresh on the lock screen.
    private static async Task PayLaterAsync(LienClient client, List<SimDevice> fleet, TimeSpan after, TextWriter output, CancellationToken ct)
    {
        try
        {
            await Task.Delay(after, TimeProvider.System, ct);
            foreach (var d in fleet.Where(d => d.Overdue))
            {
                await client.PostPaymentAsync(new PostPayment(d.OverdueAmount, d.Currency, "simulator", Guid.NewGuid().ToString("N"), PlanId: d.PlanId), ct);
                if (d.Agent is { } agent) await agent.RefreshAsync(ct);
            }
            await output.WriteLineAsync($"paid {fleet.Count(d => d.Overdue)} overdue plans");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private static string Status(List<SimDevice> fleet, TimeSpan at)
    {
        var agents = fleet.Select(d => d.Agent).OfType<AgentRuntime>().ToList();
        var states = agents.Select(a => a.State).ToList();
        int Count(LeaseMode m) => agents.Count(a => a.State.Enrollment is not null && a.Mode == m);
        var seqs = string.Join(" ", states.GroupBy(s => s.AppliedSeq).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"[{at:mm\\:ss}] devices {fleet.Count}  enrolled {states.Count(s => s.Enrollment is not null)}  Unlocked {Count(LeaseMode.Unlocked)}  Locked {Count(LeaseMode.Locked)}  Released {Count(LeaseMode.Released)}  applied seq {seqs}  refused {states.Sum(s => s.Refusals.Values.Sum())}");
    }

    private static async Task<int> WatchAsync(HttpClient http, string imei, TimeSpan every, IKeyAttestation? hardware, TextWriter output, TextWriter error,
        CancellationToken ct)
    {
        if (Imei.Problem(imei) is { } problem)
        {
            await error.WriteLineAsync("error: " + problem);
            return 2;
        }
        var agent = NewAgent(http, imei, hardware: hardware);
        var redraw = new SemaphoreSlim(0);
        agent.Effect += e => { if (e is ScreenChanged or LockNow or UnlockNow) redraw.Release(); };
        var run = agent.RunAsync(ct);
        var live = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await redraw.WaitAsync(every, ct);
                await output.WriteAsync(Frame(agent, imei, live));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        await run;
        await output.WriteAsync(Frame(agent, imei, live));
        return 0;
    }

    private static string Frame(AgentRuntime agent, string imei, bool live)
    {
        var s = agent.State;
        var view = agent.Screen;
        var lines = new List<string> { live ? "\u001b[2J\u001b[H" : "----" };
        lines.AddRange(s.Enrollment is null ? [$"IMEI {imei}: not enrolled yet"] : view.Lines());
        // The pay page's link as the phone shows it: a QR code the borrower scans with another phone.
        if (s.Enrollment is not null && view.PayUrl is { } payUrl && view.Mode != LeaseMode.Released)
            using (var qr = QRCoder.QRCodeGenerator.GenerateQrCode(payUrl, QRCoder.QRCodeGenerator.ECCLevel.L))
                lines.Add(new QRCoder.AsciiQRCode(qr).GetGraphicSmall());
        lines.Add($"  (IMEI {imei} · lease seq {s.AppliedSeq} · refused {s.Refusals.Values.Sum()} · Ctrl+C to stop)");
        return string.Join(Environment.NewLine, lines) + Environment.NewLine;
    }

    private static AgentRuntime NewAgent(HttpClient http, string imei, string? enrollmentToken = null, IKeyAttestation? hardware = null) =>
        new(http, new MemoryAgentStore(), new SystemDeviceClock(TimeProvider.System), TimeProvider.System, Random.Shared, [imei],
            provisioning: new AgentProvisioning(enrollmentToken, Attestation: hardware));

    /// <summary>A simulated phone's secure hardware: the test authority attests its keys, IMEIs included.</summary>
    private sealed class AuthorityAttestation(AttestationAuthority authority) : IKeyAttestation
    {
        private readonly Lock _lock = new();

        public IReadOnlyList<string>? Attest(byte[] publicKey, byte[] challenge, IReadOnlyList<string> imeis)
        {
            lock (_lock) // one attestation key object, many agents
                return [.. authority.Issue(AttestationRequest.ForPhone(publicKey, challenge, imeis)).Select(Convert.ToBase64String)];
        }
    }

    private static string NewImei() => Imei.WithCheckDigit("35" + Random.Shared.NextInt64(0, 1_000_000_000_000).ToString("000000000000", CultureInfo.InvariantCulture));

    private static TimeSpan? Duration(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length < 2) return null;
        if (!double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n <= 0) return null;
        return text[^1] switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            _ => null,
        };
    }
}
