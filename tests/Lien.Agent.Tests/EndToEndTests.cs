using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lien.Agent.Tests;

/// <summary>
/// One phone's whole story on a real server over loopback: it enrolls; the plan goes overdue and the phone locks —
/// by its own clock with the network cut, and by a lease pushed down its stream; a payment unlocks it through the
/// stream; an offline code unlocks it with no data; payoff releases it.
/// </summary>
public sealed class EndToEndTests(SqliteServer server) : IClassFixture<SqliteServer>, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lien-e2e-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Phone_OverdueLocksPaymentUnlocksCodeUnlocksPayoffReleases()
    {
        var ct = TestContext.Current.CancellationToken;
        var (_, admin, _) = await server.NewLenderAsync(settlementHoldHours: 0);
        var device = await admin.RegisterAsync();
        var (deviceId, imei) = (device.Id(), device.Str("imei"));
        var planId = (await admin.PlanAsync(deviceId, server.Today.AddDays(-1), count: 3, backdated: true)).Id(); // overdue, within grace: unlocked until the lock instant
        var clock = new FakeDeviceClock(server.Time.GetUtcNow(), TimeSpan.FromSeconds(5));
        var agent = new AgentRuntime(server.CreateClient(), new FileAgentStore(Path.Combine(_dir, "agent.json")), clock,
            new FakeTimeProvider(server.Time.GetUtcNow()), new Random(7), [imei], new OpenPaygoCodes(), new AgentProvisioning(Attestation: TestAttestation.ForAgent));
        await agent.StartAsync(ct);
        Assert.Equal(CallOutcome.Ok, (await agent.EnrollAsync(ct)).Outcome);
        Assert.False(agent.State.Locked);
        var until = agent.State.UnlockedUntil!.Value;

        // Network cut: the phone's own clock passes unlockedUntil and it locks by itself.
        var offline = agent.State;
        clock.Advance(until - clock.Wall + TimeSpan.FromSeconds(1));
        await agent.DispatchAsync(new Tick(((IDeviceClock)clock).Now), ct);
        Assert.True(agent.State.Locked);
        Assert.Equal(offline.AppliedSeq, agent.State.AppliedSeq); // no lease arrived: the clock did it

        // Online again: the stream is up; the server's scheduled review locks the plan and pushes the Locked lease.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var streaming = new TaskCompletionSource();
        var stream = Task.Run(() => agent.StreamOnceAsync(() => streaming.TrySetResult(), stop.Token), ct);
        await streaming.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        await server.WalkUntilLockedAsync(deviceId); // the lock warning (the phone unlocks again to show it), then the lock
        var lockedSeq = await SeqAsync(admin, deviceId);
        await Wait.Until(() => agent.State.AppliedSeq == lockedSeq, "the pushed Locked lease is applied");
        Assert.Equal(LeaseMode.Locked, agent.State.Lease!.Claims.Mode);
        Assert.True(agent.State.Locked);
        await Wait.Until(() => Applied(admin, deviceId) == lockedSeq, "the server records the ack");

        // A payment: the stream delivers the unlock at once.
        await (await admin.PayAsync(planId, 100_00)).Json(HttpStatusCode.Created);
        var unlockedSeq = await SeqAsync(admin, deviceId);
        await Wait.Until(() => agent.State.AppliedSeq == unlockedSeq, "the unlock is applied from the stream");
        Assert.False(agent.State.Locked);

        // The network gone again and the next installment overdue: an offline code from the call centre unlocks it.
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream);
        clock.Advance(agent.State.UnlockedUntil!.Value - clock.Wall + TimeSpan.FromMinutes(1));
        await agent.DispatchAsync(new Tick(((IDeviceClock)clock).Now), ct);
        Assert.True(agent.State.Locked);
        var code = await (await admin.PostAsJsonAsync($"/v1/devices/{deviceId}/codes", new { type = "AddTime", days = 5, reason = "paid at the agent, no data" }, ct))
            .Content.ReadFromJsonAsync<JsonElement>(ct);
        var effects = await agent.DispatchAsync(new CodeEntered(code.GetProperty("display").GetString()!, ((IDeviceClock)clock).Now), ct);
        Assert.DoesNotContain(effects, e => e is CodeRefused);
        Assert.False(agent.State.Locked);

        // Paid off: Released, final.
        await (await admin.PayAsync(planId, 200_00)).Json(HttpStatusCode.Created);
        await agent.CheckInAsync(ct);
        Assert.Equal(LeaseMode.Released, agent.State.Lease!.Claims.Mode);
        clock.Advance(TimeSpan.FromDays(400));
        await agent.DispatchAsync(new Tick(((IDeviceClock)clock).Now), ct);
        Assert.False(agent.State.Locked);
    }

    [Fact]
    public async Task Phone_PaidOff_UnlockedWithNoDeadlineThroughTheSettlementHold_ThenReleased()
    {
        var ct = TestContext.Current.CancellationToken;
        var (_, admin, _) = await server.NewLenderAsync(); // the profile's hold: 72 hours
        var device = await admin.RegisterAsync();
        var planId = (await admin.PlanAsync(device.Id(), server.Today.AddDays(10), count: 1)).Id();
        var clock = new FakeDeviceClock(server.Time.GetUtcNow(), TimeSpan.FromSeconds(5));
        var agent = new AgentRuntime(server.CreateClient(), new FileAgentStore(Path.Combine(_dir, "held.json")), clock,
            new FakeTimeProvider(server.Time.GetUtcNow()), new Random(7), [device.Str("imei")], new OpenPaygoCodes(),
            new AgentProvisioning(Attestation: TestAttestation.ForAgent));
        await agent.StartAsync(ct);
        Assert.Equal(CallOutcome.Ok, (await agent.EnrollAsync(ct)).Outcome);

        await (await admin.PayAsync(planId, 100_00)).Json(HttpStatusCode.Created);
        await agent.CheckInAsync(ct);
        Assert.Equal(LeaseMode.Unlocked, agent.State.Lease!.Claims.Mode);
        Assert.Null(agent.State.UnlockedUntil); // no deadline: offline, the phone never locks itself during the hold
        clock.Advance(TimeSpan.FromDays(30));
        await agent.DispatchAsync(new Tick(((IDeviceClock)clock).Now), ct);
        Assert.False(agent.State.Locked);

        server.Time.Advance(TimeSpan.FromHours(72));
        await server.Services.GetRequiredService<ReviewService>().ReviewDueAsync(ct);
        await agent.CheckInAsync(ct);
        Assert.Equal(LeaseMode.Released, agent.State.Lease!.Claims.Mode);
    }

    private static async Task<long> SeqAsync(HttpClient admin, Guid deviceId) =>
        (await admin.GetFromJsonAsync<JsonElement>($"/v1/devices/{deviceId}", TestContext.Current.CancellationToken)).GetProperty("leaseSeq").GetInt64();

    private static long Applied(HttpClient admin, Guid deviceId) =>
        admin.GetFromJsonAsync<JsonElement>($"/v1/devices/{deviceId}").GetAwaiter().GetResult().GetProperty("appliedSeq").GetInt64();
}
