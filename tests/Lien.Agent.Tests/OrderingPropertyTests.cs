using CsCheck;
using Lien.Protocol;

namespace Lien.Agent.Tests;

/// <summary>Leases delivered in any order, any number of times: the agent ends up with the highest, and never goes back.</summary>
public sealed class OrderingPropertyTests
{
    private static readonly Gen<(long Seq, LeaseMode Mode)> Lease =
        Gen.Select(Gen.Long[1, 8], Gen.Int[0, 9], (seq, m) => (seq, m switch { < 5 => LeaseMode.Unlocked, < 9 => LeaseMode.Locked, _ => LeaseMode.Released }));

    [Fact]
    public void LeaseReceived_AnyOrderWithRepeats_AppliedSeqOnlyRisesReleasedStays()
    {
        using var t = new TestLeases();
        Lease.Array[1, 15].Sample(deliveries =>
        {
            var state = t.Enrolled(t.Lease(1, until: TestLeases.T0.AddDays(7)));
            // One signed lease per seq: a repeat delivers the same text, as a retrying server would.
            var signed = deliveries.GroupBy(d => d.Seq).ToDictionary(g => g.Key, g => t.Lease(g.Key + 1, g.First().Mode, g.First().Mode == LeaseMode.Unlocked ? TestLeases.T0.AddDays(7) : null));
            var released = false;
            foreach (var (seq, _) in deliveries)
            {
                var before = state.AppliedSeq;
                state = Agent.Next(state, new LeaseReceived(signed[seq], TestLeases.Boot)).State;
                Assert.True(state.AppliedSeq >= before);
                if (released) Assert.Equal(before, state.AppliedSeq);
                released |= state.Lease!.Claims.Mode == LeaseMode.Released;
            }
            if (!released) Assert.Equal(deliveries.Max(d => d.Seq) + 1, state.AppliedSeq);
        }, iter: 200);
    }

    [Fact]
    public void CodeEntered_WithAnExtension_ExtendsTheHeldLeaseUntilTheNextLease()
    {
        using var t = new TestLeases();
        var state = t.Enrolled(t.Lease(1, until: TestLeases.T0.AddDays(1)));
        var day2 = new DeviceTime(TestLeases.T0.AddDays(2), TestLeases.Boot.Elapsed + TimeSpan.FromDays(2));
        state = Agent.Next(state, new Tick(day2)).State;
        Assert.True(state.Locked);

        var codes = new ThreeDayCodes();
        var (unlocked, effects) = Agent.Next(state, new CodeEntered("123456789", day2), codes);
        Assert.False(unlocked.Locked);
        Assert.Contains(effects, e => e is UnlockNow);
        Assert.Equal("used:123456789", unlocked.CodeState);

        var (_, refused) = Agent.Next(unlocked, new CodeEntered("000", day2), codes);
        Assert.Equal("wrong code", Assert.Single(refused.OfType<CodeRefused>()).Message);

        // The next lease supersedes the code: the server knows of every code it issued.
        var next = Agent.Next(unlocked, new LeaseReceived(t.Lease(2, LeaseMode.Locked), day2)).State;
        Assert.Null(next.CodeUnlockedUntil);
        Assert.True(next.Locked);
    }

    /// <summary>A stand-in for the OpenPAYGO extension: one 9-digit code worth three days.</summary>
    private sealed class ThreeDayCodes : IOfflineCodes
    {
        public string? Enroll(AgentState state, OfflineCodes codes) => null;

        public CodeResult Redeem(AgentState state, string code, DeviceTime at, DateTimeOffset trustedNow) =>
            code.Length == 9 ? new CodeResult(trustedNow.AddDays(3), "used:" + code, null) : new CodeResult(null, null, "wrong code");

        public int WrongCodes(AgentState state) => throw new NotSupportedException("Check-in is not part of these tests.");
    }
}
