using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;

namespace Lien.Server.Tests.Payments;

/// <summary>
/// 1,000 distinct payments of one lender, 50 at a time, with the server killed (SIGKILL) in the middle and started
/// again: every payment the server acknowledged is in the ledger, none twice, and the audit chain still verifies.
/// </summary>
public sealed class CrashTests
{
    private const int Payments = 1000;
    private const int Concurrency = 50;
    private const int KillAfter = 400;

    [Fact]
    public async Task Payments_ServerKilledMidStreamAndRestarted_NoAcknowledgedPaymentLostNoneTwice()
    {
        await using var nodes = await ServerProcesses.CreateAsync();
        var port = ServerProcesses.FreePort();
        var (server, client) = await nodes.StartNodeAsync(port);
        var token = await nodes.CreateLenderAsync("Crash Lender");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var today = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);
        var plans = new List<Guid>();
        for (var i = 0; i < 10; i++)
            plans.Add((await client.PlanAsync((await client.RegisterAsync()).Id(), today.AddDays(60), count: 1, each: 10_000_000_00, downPayment: 0)).Id());

        var acknowledged = new ConcurrentDictionary<int, HttpStatusCode>();
        var unexpected = new ConcurrentQueue<string>();
        var next = -1;
        var restarted = new TaskCompletionSource();
        var killed = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        async Task WorkerAsync()
        {
            for (var i = Interlocked.Increment(ref next); i < Payments; i = Interlocked.Increment(ref next))
            {
                // The same payment is posted until the server answers it: a repeat after a lost answer is recorded once.
                while (true)
                {
                    deadline.Token.ThrowIfCancellationRequested();
                    try
                    {
                        var r = await client.PayAsync(plans[i % plans.Count], 1_00 + i, $"CRASH-{i}");
                        if (r.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                        {
                            acknowledged[i] = r.StatusCode;
                            if (acknowledged.Count >= KillAfter && Interlocked.Exchange(ref killed, 1) == 0)
                            {
                                server.Kill(entireProcessTree: true); // SIGKILL: no shutdown, no flush
                                await server.WaitForExitAsync(deadline.Token);
                                (server, _) = await nodes.StartNodeAsync(port);
                                restarted.SetResult();
                            }
                            break;
                        }
                        if (r.StatusCode != HttpStatusCode.ServiceUnavailable) unexpected.Enqueue($"{i}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
                    }
                    catch (HttpRequestException)
                    {
                        // the server is down: wait for it
                    }
                    if (Volatile.Read(ref killed) == 1) await restarted.Task.WaitAsync(deadline.Token);
                    else await Task.Delay(50, deadline.Token);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(WorkerAsync)));

        Assert.Equal(1, killed);
        Assert.Empty(unexpected);
        Assert.Equal(Payments, acknowledged.Count);
        var ledger = new List<string>();
        long paid = 0;
        foreach (var plan in plans)
        {
            var rows = await client.ReadAsync($"/v1/plans/{plan}/payments");
            ledger.AddRange(rows.EnumerateArray().Select(p => p.Str("providerTransactionId")));
            paid += (await client.ReadAsync($"/v1/plans/{plan}")).Long("paid");
        }
        Assert.Equal(Enumerable.Range(0, Payments).Select(i => $"CRASH-{i}").Order(), ledger.Order());
        Assert.Equal(Enumerable.Range(0, Payments).Sum(i => 1_00L + i), paid);
        var check = await client.ReadAsync("/v1/audit/verify");
        Assert.True(check.GetProperty("intact").GetBoolean(), check.GetRawText());
    }
}
