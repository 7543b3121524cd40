using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Lien.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Lien.Agent.Tests;

/// <summary>
/// A local stand-in for the server's instant stream and ack endpoints, speaking their wire format exactly:
/// <c>GET /v1/device/stream?appliedSeq=N</c> answers <c>text/event-stream</c> with <c>event: lease</c> /
/// <c>data: {"seq":N,"lease":"…"}</c> events and <c>: ping</c> comments; <c>POST /v1/device/ack</c> takes <c>{"seq":N}</c>.
/// It records every connection and ack so the test can check what the agent sent. <c>POST /v1/device/enroll</c> is recorded
/// too, and answered 404 (IMEI not registered).
/// </summary>
internal sealed class StreamStandIn : IAsyncDisposable
{
    public sealed record Connection(string? AppliedSeq, string Authorization, string Accept, Channel<string> Outbox);

    private readonly WebApplication _app;
    public ConcurrentQueue<Connection> Connections { get; } = new();
    public ConcurrentQueue<(long Seq, string Authorization)> Acks { get; } = new();
    public ConcurrentQueue<EnrollRequest> Enrollments { get; } = new();
    private int _checkIns;

    /// <summary>Check-ins received; the stand-in answers each one 503, as a server in trouble would (or see <see cref="RetryAfter"/>, <see cref="UnsignedCheckIn"/>).</summary>
    public int CheckIns => Volatile.Read(ref _checkIns);

    /// <summary>When set, check-ins are answered 429 with this <c>Retry-After</c> (seconds), as a rate-limited server would.</summary>
    public int? RetryAfter { get; set; }

    /// <summary>Answer check-ins 200 with this body and no Lien-Signature (a forger's answer); null: 503.</summary>
    public string? UnsignedCheckIn { get; set; }

    private StreamStandIn(WebApplication app) => _app = app;

    public Uri Address => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");

    public static async Task<StreamStandIn> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var standIn = new StreamStandIn(app);
        app.MapGet("/v1/device/stream", async (HttpContext ctx) =>
        {
            var connection = new Connection(ctx.Request.Query["appliedSeq"], ctx.Request.Headers.Authorization.ToString(),
                ctx.Request.Headers.Accept.ToString(), Channel.CreateUnbounded<string>());
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.StartAsync(ctx.RequestAborted);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            standIn.Connections.Enqueue(connection);
            await foreach (var chunk in connection.Outbox.Reader.ReadAllAsync(ctx.RequestAborted))
            {
                await ctx.Response.WriteAsync(chunk, ctx.RequestAborted);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            }
        });
        app.MapPost("/v1/device/ack", async (HttpContext ctx) =>
        {
            var body = await JsonDocument.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted);
            standIn.Acks.Enqueue((body.RootElement.GetProperty("seq").GetInt64(), ctx.Request.Headers.Authorization.ToString()));
            return Results.NoContent();
        });
        app.MapPost("/v1/device/enroll/challenge", () => Results.Json(standIn.Challenge, LeaseClaims.Json));
        app.MapPost("/v1/device/enroll", async (HttpContext ctx) =>
        {
            standIn.Enrollments.Enqueue((await ctx.Request.ReadFromJsonAsync<EnrollRequest>(LeaseClaims.Json, ctx.RequestAborted))!);
            return Results.Problem(statusCode: 404, title: "IMEI not registered");
        });
        app.MapPost("/v1/device/checkin", (HttpContext ctx) =>
        {
            Interlocked.Increment(ref standIn._checkIns);
            if (standIn.RetryAfter is { } seconds)
            {
                ctx.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.Problem(statusCode: 429, title: "Too many requests");
            }
            return standIn.UnsignedCheckIn is { } body ? Results.Text(body, "application/json") : Results.StatusCode(503);
        });
        await app.StartAsync();
        return standIn;
    }

    /// <summary>What the stand-in answers for a challenge: its clock is an hour ahead of the phone's.</summary>
    public EnrollmentChallenge Challenge { get; } = new("AQAAAABpq1xAc2l4dGVlbi1yYW5kb20tYnl0ZXMtYW5kLWEtbWFj",
        TestLeases.T0.AddHours(1).AddMinutes(10), TestLeases.T0.AddHours(1));

    public static string LeaseEvent(long seq, string jws) => $"event: lease\ndata: {{\"seq\":{seq},\"lease\":\"{jws}\"}}\n\n";

    public async ValueTask DisposeAsync()
    {
        foreach (var c in Connections) c.Outbox.Writer.TryComplete();
        await _app.DisposeAsync();
    }
}

/// <summary>The instant stream client against the stand-in: applies and acks what arrives, reconnects after a drop.</summary>
public sealed class StreamTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lien-agent-stream-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>An agent enrolled with the stand-in, holding lease 1 (Locked), its time on a fake clock; not yet running.</summary>
    private async Task<(AgentRuntime Agent, FileAgentStore Store, FakeTimeProvider Time)> EnrolledAgentAsync(StreamStandIn standIn, TestLeases t, HttpClient http, Random random)
    {
        var store = new FileAgentStore(Path.Combine(_dir, "agent.json"));
        await store.SaveAsync(t.Enrolled(t.Lease(1, LeaseMode.Locked)) with { Identity = DeviceKeys.NewIdentity(t.Imeis) }, TestContext.Current.CancellationToken);
        var time = new FakeTimeProvider(TestLeases.T0);
        http.BaseAddress = standIn.Address;
        return (new AgentRuntime(http, store, new FakeDeviceClock(TestLeases.T0, TimeSpan.FromSeconds(5)), time, random, t.Imeis), store, time);
    }

    [Fact]
    public async Task Stream_LeaseEvents_AppliedAckedAndReconnectsAfterDrop()
    {
        await using var standIn = await StreamStandIn.StartAsync();
        using var t = new TestLeases();
        using var http = new HttpClient();
        var (agent, store, time) = await EnrolledAgentAsync(standIn, t, http, new Random(3));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var run = agent.RunAsync(stop.Token);

        await Wait.Until(() => !standIn.Connections.IsEmpty, "the first connection");
        var first = standIn.Connections.Single();
        Assert.Equal("1", first.AppliedSeq);
        Assert.Equal("Device token-1", first.Authorization);
        Assert.Equal("text/event-stream", first.Accept);

        await first.Outbox.Writer.WriteAsync(": ping\n\n", TestContext.Current.CancellationToken);
        await first.Outbox.Writer.WriteAsync(StreamStandIn.LeaseEvent(2, t.Lease(2, until: TestLeases.T0.AddDays(7))), TestContext.Current.CancellationToken);
        await Wait.Until(() => standIn.Acks.Any(a => a.Seq == 2), "the ack of seq 2");
        Assert.Equal(2, agent.State.AppliedSeq);
        Assert.False(agent.State.Locked);
        Assert.Equal("Device token-1", standIn.Acks.Single().Authorization);

        // A forged lease on the stream is refused and not acked.
        using var forger = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        await first.Outbox.Writer.WriteAsync(StreamStandIn.LeaseEvent(9, t.Sign(t.Claims(9, LeaseMode.Released), forger)), TestContext.Current.CancellationToken);
        await Wait.Until(() => agent.State.RefusedFor(RefusalReason.BadSignature) == 1, "the forged lease's refusal");

        // The server drops the connection: after the backoff (1 s ± 20 %, on the fake clock) the agent comes back with its new seq.
        first.Outbox.Writer.Complete();
        await Wait.Until(() => standIn.Connections.Count == 2, "the reconnection", () => time.Advance(TimeSpan.FromMilliseconds(500)));
        var second = standIn.Connections.Last();
        Assert.Equal("2", second.AppliedSeq);

        await second.Outbox.Writer.WriteAsync(StreamStandIn.LeaseEvent(3, t.Lease(3, LeaseMode.Locked)), TestContext.Current.CancellationToken);
        await Wait.Until(() => standIn.Acks.Any(a => a.Seq == 3), "the ack of seq 3");
        Assert.True(agent.State.Locked);
        Assert.Equal([2L, 3L], standIn.Acks.Select(a => a.Seq));

        await stop.CancelAsync();
        await run;
        Assert.Equal(3, (await store.LoadAsync(TestContext.Current.CancellationToken))!.AppliedSeq);
    }

    // The agent running against the stand-in (jitter fixed at none), every wait of its check-in loop recorded.
    private async Task<(AgentRuntime Agent, FakeTimeProvider Time, ConcurrentQueue<(CallOutcome Outcome, TimeSpan Wait)> Waits, Task Run)> RunRecordingWaitsAsync(
        StreamStandIn standIn, TestLeases t, HttpClient http, CancellationToken stop)
    {
        var (agent, _, time) = await EnrolledAgentAsync(standIn, t, http, new FixedRandom(0.5));
        var waits = new ConcurrentQueue<(CallOutcome Outcome, TimeSpan Wait)>();
        agent.CheckInScheduled += (outcome, wait) => waits.Enqueue((outcome, wait));
        return (agent, time, waits, agent.RunAsync(stop));
    }

    [Theory]
    [InlineData(CallOutcome.Failed)]
    [InlineData(CallOutcome.Refused)] // answered, but unsigned: a forger must not set the pace of check-ins either
    public async Task CheckIn_ServerFailingOrAnswersRefused_RetriesAt30sThen60sThen120s(CallOutcome expected)
    {
        await using var standIn = await StreamStandIn.StartAsync();
        using var t = new TestLeases();
        if (expected == CallOutcome.Refused)
            standIn.UnsignedCheckIn = System.Text.Encoding.UTF8.GetString(t.CheckInAnswer(t.Lease(2, until: TestLeases.T0.AddDays(30)), TestLeases.Boot).Body);
        using var http = new HttpClient();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var (agent, time, waits, run) = await RunRecordingWaitsAsync(standIn, t, http, stop.Token);

        await Wait.Until(() => waits.Count == 1, "the check-in at boot");
        foreach (var (seconds, attempts) in new[] { (29, 1), (1, 2), (59, 2), (1, 3), (119, 3), (1, 4) })
        {
            time.Advance(TimeSpan.FromSeconds(seconds));
            await Wait.Until(() => waits.Count >= attempts, $"check-in {attempts}");
            await Task.Delay(50, TestContext.Current.CancellationToken); // room for a retry that is not due yet to (wrongly) happen
            Assert.Equal(attempts, standIn.CheckIns);
            Assert.Equal(attempts, waits.Count);
        }
        Assert.Equal([30, 60, 120, 240], waits.Select(w => w.Wait.TotalSeconds));
        Assert.All(waits, w => Assert.Equal(expected, w.Outcome));
        Assert.Equal(expected == CallOutcome.Refused ? 4 : 0, agent.State.RefusedFor(RefusalReason.AnswerSignature));

        await agent.RefreshAsync(TestContext.Current.CancellationToken);
        await Wait.Until(() => standIn.CheckIns == 5 && waits.Count == 5, "the check-in Refresh asked for");
        Assert.Equal(480, waits.Last().Wait.TotalSeconds);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task CheckIn_RateLimited_BacksOffNoSoonerThanRetryAfter()
    {
        await using var standIn = await StreamStandIn.StartAsync();
        standIn.RetryAfter = 600;
        using var t = new TestLeases();
        using var http = new HttpClient();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var (agent, time, waits, run) = await RunRecordingWaitsAsync(standIn, t, http, stop.Token);

        await Wait.Until(() => waits.Count == 1, "the check-in at boot");
        Assert.Equal((CallOutcome.Failed, TimeSpan.FromSeconds(600)), waits.Single()); // not the backoff's 30 s
        time.Advance(TimeSpan.FromSeconds(599));
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Equal(1, standIn.CheckIns);
        standIn.RetryAfter = null; // then the server fails instead: plain backoff, which carried on doubling
        time.Advance(TimeSpan.FromSeconds(1));
        await Wait.Until(() => waits.Count == 2, "the check-in after Retry-After");
        Assert.Equal(60, waits.Last().Wait.TotalSeconds);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public void ServerSentEvents_MultiLineDataAndComments_Parsed()
    {
        var sse = new ServerSentEvents();
        string[] lines = [": ping", "", "event: lease", "data: {\"a\":", "data:1}", "", "data: plain", ""];
        var events = lines.Select(sse.Feed).Where(e => e is not null).Select(e => e!.Value).ToList();
        Assert.Equal([("lease", "{\"a\":\n1}"), ("message", "plain")], events);
    }
}
