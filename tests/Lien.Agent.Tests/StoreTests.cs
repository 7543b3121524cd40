using Lien.Protocol;

namespace Lien.Agent.Tests;

/// <summary>The state file: everything survives a restart, and a write never leaves half a file.</summary>
public sealed class StoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lien-agent-store-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task SaveThenLoad_FullState_RoundTrips()
    {
        using var t = new TestLeases();
        var state = t.Enrolled(t.Lease(2, until: TestLeases.T0.AddDays(7)));
        state = Agent.Next(state, new LeaseReceived(t.Lease(1), TestLeases.Boot)).State;
        state = state with { Identity = DeviceKeys.NewIdentity(t.Imeis), CodeUnlockedUntil = TestLeases.T0.AddDays(9), CodeState = "{\"count\":4}" };
        var store = new FileAgentStore(Path.Combine(_dir, "agent.json"));

        await store.SaveAsync(state, TestContext.Current.CancellationToken);
        var loaded = await new FileAgentStore(store.Path).LoadAsync(TestContext.Current.CancellationToken);

        Assert.NotNull(loaded);
        Assert.Equal(state.Identity.PrivateKey, loaded.Identity.PrivateKey);
        Assert.Equal(state.Identity.Imeis, loaded.Identity.Imeis);
        Assert.Equal(state.Enrollment!.DeviceToken, loaded.Enrollment!.DeviceToken);
        Assert.Equal(state.Enrollment.AnswerKey, loaded.Enrollment.AnswerKey);
        Assert.Equal(state.KeySet!.Keys, loaded.KeySet!.Keys);
        Assert.Equal(state.KeySet.Version, loaded.KeySet.Version);
        Assert.Equal(state.Lease!.Jws, loaded.Lease!.Jws);
        Assert.Equal(state.Lease.Claims.Screen, loaded.Lease.Claims.Screen);
        Assert.Equal(state.Anchor, loaded.Anchor);
        Assert.Equal(state.HighWater, loaded.HighWater);
        Assert.Equal(1, loaded.RefusedFor(RefusalReason.Replay));
        Assert.Equal(state.CodeUnlockedUntil, loaded.CodeUnlockedUntil);
        Assert.Equal(state.CodeState, loaded.CodeState);
        var text = await File.ReadAllTextAsync(store.Path, TestContext.Current.CancellationToken);
        foreach (var member in new[] { "\"version\": 1", "\"privateKey\"", "\"deviceToken\"", "\"jws\"", "\"anchor\"", "\"highWater\"", "\"Replay\": 1", "\"mode\": \"Unlocked\"" })
            Assert.Contains(member, text);
    }

    [Fact]
    public async Task Save_Twice_ReplacesTheFileAndLeavesNoTempFiles()
    {
        using var t = new TestLeases();
        var store = new FileAgentStore(Path.Combine(_dir, "agent.json"));
        await store.SaveAsync(t.Enrolled(t.Lease(1)), TestContext.Current.CancellationToken);
        await store.SaveAsync(t.Enrolled(t.Lease(2, LeaseMode.Locked)), TestContext.Current.CancellationToken);

        Assert.Equal(["agent.json"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        Assert.Equal(2, (await store.LoadAsync(TestContext.Current.CancellationToken))!.AppliedSeq);
    }

    [Fact]
    public async Task Load_NoFile_Null()
    {
        Assert.Null(await new FileAgentStore(Path.Combine(_dir, "none.json")).LoadAsync(TestContext.Current.CancellationToken));
    }
}
