using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Time.Testing;

namespace Lien.Agent.Tests;

/// <summary>
/// Offline codes across enrollments, agent and real server over loopback: each enrollment gets a fresh secret, so a
/// code issued after a re-enrollment works on the phone as enrolled now and on no earlier state; and the wrong codes a
/// phone refuses reach the lender at check-in.
/// </summary>
public sealed class CodeSecretTests(SqliteServer server) : IClassFixture<SqliteServer>, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lien-codes-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private (AgentRuntime Runtime, FakeDeviceClock Clock) Phone(string imei, string file)
    {
        var clock = new FakeDeviceClock(server.Time.GetUtcNow(), TimeSpan.FromSeconds(5));
        return (new AgentRuntime(server.CreateClient(), new FileAgentStore(Path.Combine(_dir, file)), clock,
            new FakeTimeProvider(server.Time.GetUtcNow()), new Random(3), [imei], new OpenPaygoCodes(), new AgentProvisioning(Attestation: TestAttestation.ForAgent)), clock);
    }

    private static async Task<string> IssueAsync(HttpClient admin, Guid deviceId, int days) =>
        (await (await admin.PostAsJsonAsync($"/v1/devices/{deviceId}/codes", new { type = "AddTime", days, reason = "paid at the agent" }, Ct))
            .Json(HttpStatusCode.Created)).Str("code");

    private static async Task<IReadOnlyList<AgentEffect>> TypeAsync((AgentRuntime Runtime, FakeDeviceClock Clock) phone, string code) =>
        await phone.Runtime.DispatchAsync(new CodeEntered(code, ((IDeviceClock)phone.Clock).Now), Ct);

    [Fact]
    public async Task ReEnrollment_CodeIssuedAfterIt_AcceptedByTheNewStateRefusedByTheOld()
    {
        var (_, admin, _) = await server.NewLenderAsync();
        var device = await admin.RegisterAsync();
        await admin.PlanAsync(device.Id(), server.Today.AddDays(-10), count: 1, backdated: true); // overdue past grace: Locked
        await server.WalkUntilLockedAsync(device.Id());
        var before = Phone(device.Str("imei"), "before.json");
        await before.Runtime.StartAsync(Ct);
        Assert.Equal(CallOutcome.Ok, (await before.Runtime.EnrollAsync(Ct)).Outcome);
        var oldState = before.Runtime.State;

        var after = Phone(device.Str("imei"), "after.json"); // factory reset: a new key, a new enrollment
        await after.Runtime.StartAsync(Ct);
        Assert.Equal(CallOutcome.Ok, (await after.Runtime.EnrollAsync(Ct)).Outcome);
        Assert.NotEqual(oldState.CodeState, after.Runtime.State.CodeState);
        Assert.True(after.Runtime.State.Locked);

        var code = await IssueAsync(admin, device.Id(), 5);

        // The earlier enrollment's state (whoever holds it, the phone before its reset or someone who enrolled as it) refuses it.
        var refused = await TypeAsync(before, code);
        Assert.Equal("Wrong code. Check it and try again.", Assert.Single(refused.OfType<CodeRefused>()).Message);
        Assert.True(before.Runtime.State.Locked);
        var accepted = await TypeAsync(after, code);
        Assert.DoesNotContain(accepted, e => e is CodeRefused);
        Assert.False(after.Runtime.State.Locked);
    }

    [Fact]
    public async Task WrongCodes_TypedOnThePhone_ReachTheLenderAtCheckIn()
    {
        var (_, admin, _) = await server.NewLenderAsync();
        var device = await admin.RegisterAsync();
        await admin.PlanAsync(device.Id(), server.Today.AddDays(-10), count: 1, backdated: true);
        await server.WalkUntilLockedAsync(device.Id());
        var phone = Phone(device.Str("imei"), "agent.json");
        await phone.Runtime.StartAsync(Ct);
        await phone.Runtime.EnrollAsync(Ct);
        foreach (var guess in new[] { "111111111", "222222222", "333333333" }) await TypeAsync(phone, guess);

        server.Time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(CallOutcome.Ok, (await phone.Runtime.CheckInAsync(Ct)).Outcome);

        var wrong = (await admin.ReadAsync($"/v1/devices/{device.Id()}")).GetProperty("wrongCodes");
        Assert.Equal(3, wrong.GetProperty("count").GetInt32());
        Assert.Equal(server.Time.GetUtcNow(), wrong.GetProperty("reportedAt").GetDateTimeOffset());
    }
}
