using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lien.Protocol;
using Microsoft.Extensions.Time.Testing;

namespace Lien.Agent.Tests;

/// <summary>The agent's runtime against the real server over loopback: enrollment, check-in, restart, factory reset.</summary>
public sealed class ServerTests(SqliteServer server) : IClassFixture<SqliteServer>, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lien-agent-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private AgentRuntime Device(string imei, string file = "agent.json", List<AgentEffect>? effects = null)
    {
        var clock = new FakeDeviceClock(server.Time.GetUtcNow(), TimeSpan.FromSeconds(5));
        var runtime = new AgentRuntime(server.CreateClient(), new FileAgentStore(Path.Combine(_dir, file)), clock,
            new FakeTimeProvider(server.Time.GetUtcNow()), new Random(1), [imei], provisioning: new AgentProvisioning(Attestation: TestAttestation.ForAgent));
        if (effects is not null) runtime.Effect += effects.Add;
        return runtime;
    }

    private async Task<(HttpClient Admin, Guid DeviceId, string Imei, Guid PlanId)> LockedDeviceAsync()
    {
        var (_, admin, _) = await server.NewLenderAsync(settlementHoldHours: 0);
        var device = await admin.RegisterAsync();
        var plan = await admin.PlanAsync(device.Id(), server.Today.AddDays(-10), count: 1, backdated: true);
        await server.WalkUntilLockedAsync(device.Id());
        return (admin, device.Id(), device.Str("imei"), plan.Id());
    }

    [Fact]
    public async Task EnrollThenCheckIn_PaymentReleases_AppliedSeqReachesTheServer()
    {
        var (admin, deviceId, imei, planId) = await LockedDeviceAsync();
        var agent = Device(imei);
        await agent.StartAsync(Ct);

        var enrolled = await agent.EnrollAsync(Ct);
        Assert.Equal(CallOutcome.Ok, enrolled.Outcome);
        Assert.Equal(deviceId, agent.State.Enrollment!.DeviceId);
        Assert.True(agent.State.Locked);
        var screen = LockScreenView.Of(agent.State, agent.State.HighWater);
        Assert.Equal("KES 100", screen.AmountDue);
        Assert.Equal("0800 723 000", screen.SupportPhone);
        Assert.Contains("account LN-", screen.HowToPay);

        await (await admin.PayAsync(planId, 100_00)).Json(HttpStatusCode.Created);
        var checkedIn = await agent.CheckInAsync(Ct);

        Assert.Equal(CallOutcome.Ok, checkedIn.Outcome);
        Assert.Equal(LeaseMode.Released, agent.State.Lease!.Claims.Mode);
        Assert.False(agent.State.Locked);
        Assert.InRange(checkedIn.NextIn!.Value, TimeSpan.FromMinutes(5), TimeSpan.FromHours(6));
        await agent.CheckInAsync(Ct); // reports the applied seq
        var device = await admin.GetFromJsonAsync<JsonElement>($"/v1/devices/{deviceId}", Ct);
        Assert.Equal(agent.State.AppliedSeq, device.GetProperty("appliedSeq").GetInt64());
    }

    [Fact]
    public async Task Start_AfterRestart_KeepsStateAndLocksAtBootWithoutTheNetwork()
    {
        var (_, _, imei, _) = await LockedDeviceAsync();
        var first = Device(imei);
        await first.StartAsync(Ct);
        await first.EnrollAsync(Ct);

        var effects = new List<AgentEffect>();
        var second = Device(imei, effects: effects);
        await second.StartAsync(Ct);

        Assert.Equal(first.State.Enrollment!.DeviceToken, second.State.Enrollment!.DeviceToken);
        Assert.Equal(first.State.Identity.PrivateKey, second.State.Identity.PrivateKey);
        Assert.Equal(first.State.Lease!.Jws, second.State.Lease!.Jws);
        Assert.Contains(effects, e => e is LockNow);
        Assert.Equal(CallOutcome.Ok, (await second.CheckInAsync(Ct)).Outcome);
    }

    [Fact]
    public async Task FactoryReset_WipedStore_EnrollsWithNewKeyAndStaysLocked_OldTokenEnrollsAgain()
    {
        var (_, deviceId, imei, _) = await LockedDeviceAsync();
        var before = Device(imei, "before.json");
        await before.StartAsync(Ct);
        await before.EnrollAsync(Ct);

        var after = Device(imei, "after.json"); // a wiped store: nothing of the old state
        await after.StartAsync(Ct);
        Assert.Null(after.State.Enrollment);
        Assert.Equal(CallOutcome.Ok, (await after.EnrollAsync(Ct)).Outcome);

        Assert.NotEqual(before.State.Identity.PrivateKey, after.State.Identity.PrivateKey);
        Assert.Equal(deviceId, after.State.Enrollment!.DeviceId);
        Assert.Equal(before.State.AppliedSeq, after.State.AppliedSeq);
        Assert.True(after.State.Locked);

        // The enrollment retired the first token: its owner is told 401, forgets it, and enrolls again.
        Assert.Equal(CallOutcome.Unauthorized, (await before.CheckInAsync(Ct)).Outcome);
        Assert.Null(before.State.Enrollment);
        Assert.True(before.State.Locked);
        Assert.Equal(CallOutcome.Ok, (await before.EnrollAsync(Ct)).Outcome);
    }

    [Fact]
    public async Task Run_EnrollsAtBoot_RefreshAfterPaymentUnlocks()
    {
        var (admin, _, imei, planId) = await LockedDeviceAsync();
        var effects = new System.Collections.Concurrent.ConcurrentQueue<AgentEffect>();
        var agent = Device(imei);
        agent.Effect += effects.Enqueue;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var run = agent.RunAsync(stop.Token);

        await Wait.Until(() => effects.Any(e => e is LockNow), "the lock after enrolling at boot");
        await (await admin.PayAsync(planId, 100_00)).Json(HttpStatusCode.Created);
        await agent.RefreshAsync(Ct);
        await Wait.Until(() => effects.SkipWhile(e => e is not LockNow).Any(e => e is UnlockNow), "the unlock after Refresh");

        Assert.Equal(LeaseMode.Released, agent.State.Lease!.Claims.Mode);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task CheckIn_TokenExpired_RenewedWithTheDeviceKeyNotEnrolledAgain()
    {
        var (admin, deviceId, imei, _) = await LockedDeviceAsync();
        var agent = Device(imei);
        await agent.StartAsync(Ct);
        await agent.EnrollAsync(Ct);
        var token = agent.State.Enrollment!.DeviceToken;

        // The phone's clock stays where it was, a month behind: the renewal is signed at the server time the 401 carried.
        server.Time.Advance(TimeSpan.FromDays(31));
        Assert.Equal(CallOutcome.Ok, (await agent.CheckInAsync(Ct)).Outcome);
        Assert.NotEqual(token, agent.State.Enrollment!.DeviceToken);
        Assert.Equal(deviceId, agent.State.Enrollment.DeviceId);
        var audit = await admin.GetFromJsonAsync<JsonElement>("/v1/audit", Ct);
        Assert.DoesNotContain(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "device.re-enrolled");
        Assert.Equal(CallOutcome.Ok, (await agent.CheckInAsync(Ct)).Outcome);
    }

    [Fact]
    public async Task CheckIn_HalfTheTokensLifeGone_TakesTheRenewedTokenFromTheAnswer()
    {
        var (_, _, imei, _) = await LockedDeviceAsync();
        var agent = Device(imei);
        await agent.StartAsync(Ct);
        await agent.EnrollAsync(Ct);
        var token = agent.State.Enrollment!.DeviceToken;
        server.Time.Advance(TimeSpan.FromDays(16));
        Assert.Equal(CallOutcome.Ok, (await agent.CheckInAsync(Ct)).Outcome);
        var renewed = agent.State.Enrollment!.DeviceToken;
        Assert.NotEqual(token, renewed);
        // Saved: a restart keeps the renewed token.
        var again = Device(imei);
        await again.StartAsync(Ct);
        Assert.Equal(renewed, again.State.Enrollment!.DeviceToken);
    }

    [Fact]
    public async Task CheckIn_TokenExpiredAndTheKeyRetired_RenewalRefusedSoItEnrollsAgain()
    {
        var (_, deviceId, imei, _) = await LockedDeviceAsync();
        var before = Device(imei, "before.json");
        await before.StartAsync(Ct);
        await before.EnrollAsync(Ct);
        var after = Device(imei, "after.json"); // another enrollment of the IMEI retires the first key
        await after.StartAsync(Ct);
        await after.EnrollAsync(Ct);

        server.Time.Advance(TimeSpan.FromDays(31));
        Assert.Equal(CallOutcome.Unauthorized, (await before.CheckInAsync(Ct)).Outcome);
        Assert.Null(before.State.Enrollment);
        Assert.Equal(CallOutcome.Ok, (await before.EnrollAsync(Ct)).Outcome);
        Assert.Equal(deviceId, before.State.Enrollment!.DeviceId);
    }

    [Fact]
    public async Task Enroll_UnregisteredImei_NotRegistered()
    {
        await server.NewLenderAsync();
        var agent = Device(LenderApi.NewImei());
        await agent.StartAsync(Ct);

        Assert.Equal(CallOutcome.NotRegistered, (await agent.EnrollAsync(Ct)).Outcome);
        Assert.False(agent.State.Locked);
    }
}
