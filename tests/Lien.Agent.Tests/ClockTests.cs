using Lien.Protocol;

namespace Lien.Agent.Tests;

/// <summary>Enforcement on the device's own clock: wall-clock tampering never unlocks, monotonic time locks offline, reboots forget nothing.</summary>
public sealed class ClockTests
{
    private static readonly DateTimeOffset T0 = TestLeases.T0;

    private static LeaseMode Mode(AgentState s, DeviceTime at) => s.EffectiveMode(s.TrustedNow(at));

    [Fact]
    public void Tick_OfflineMonotonicPastUnlockedUntil_LocksWhateverTheWallClockSays()
    {
        using var t = new TestLeases();
        var state = t.Enrolled(t.Lease(1, until: T0.AddDays(7)));
        // The borrower keeps the phone offline and holds the wall clock at the day the lease came.
        var at = new DeviceTime(T0, TestLeases.Boot.Elapsed + TimeSpan.FromDays(7));

        var (next, effects) = Agent.Next(state, new Tick(at));

        Assert.Equal(LeaseMode.Locked, Mode(next, at));
        Assert.Contains(effects, e => e is LockNow);
    }

    [Fact]
    public void WallClockChanged_SetBackAfterLocking_StaysLocked()
    {
        using var t = new TestLeases();
        var state = t.Enrolled(t.Lease(1, until: T0.AddDays(7)));
        var locked = new DeviceTime(T0.AddDays(8), TestLeases.Boot.Elapsed + TimeSpan.FromDays(8));
        state = Agent.Next(state, new Tick(locked)).State;

        foreach (var back in new[] { TimeSpan.FromDays(-2), TimeSpan.FromDays(-8), TimeSpan.FromDays(-400) })
        {
            var at = locked with { Wall = locked.Wall + back, Elapsed = locked.Elapsed + TimeSpan.FromMinutes(1) };
            var (next, effects) = Agent.Next(state, new WallClockChanged(at));
            Assert.Equal(LeaseMode.Locked, Mode(next, at));
            Assert.DoesNotContain(effects, e => e is UnlockNow);
        }
    }

    [Fact]
    public void Booted_AfterRebootWithWallClockSetBack_NeverBelievesAnEarlierTime()
    {
        using var t = new TestLeases();
        var state = t.Enrolled(t.Lease(1, until: T0.AddDays(7)));
        state = Agent.Next(state, new Tick(new DeviceTime(T0.AddDays(6), TestLeases.Boot.Elapsed + TimeSpan.FromDays(6)))).State;

        // Reboot: the monotonic clock starts again near zero, and the wall clock was set back to the lease's day.
        var boot = new DeviceTime(T0, TimeSpan.FromSeconds(3));
        state = Agent.Next(state, new Booted(boot)).State;
        Assert.True(state.TrustedNow(boot) >= T0.AddDays(6));
        Assert.Equal(LeaseMode.Unlocked, Mode(state, boot));

        // A day of uptime later (wall clock still held back) the lease has run out.
        var later = new DeviceTime(T0, TimeSpan.FromDays(1) + TimeSpan.FromSeconds(3));
        var (next, effects) = Agent.Next(state, new Tick(later));
        Assert.Equal(LeaseMode.Locked, Mode(next, later));
        Assert.Contains(effects, e => e is LockNow);
    }

    [Fact]
    public void LeaseReceived_AfterWallClockWasSetForward_NewLeaseUnlocks()
    {
        using var t = new TestLeases();
        var state = t.Enrolled(t.Lease(1, until: T0.AddDays(7)));
        // The wall clock jumps a month ahead (the borrower's mistake) and back: the phone locked, and stays locked...
        state = Agent.Next(state, new WallClockChanged(new DeviceTime(T0.AddDays(30), TestLeases.Boot.Elapsed + TimeSpan.FromHours(1)))).State;
        var back = new DeviceTime(T0.AddHours(1), TestLeases.Boot.Elapsed + TimeSpan.FromHours(1));
        state = Agent.Next(state, new WallClockChanged(back)).State;
        Assert.Equal(LeaseMode.Locked, Mode(state, back));

        // ...until a signed lease says what time it really is: a current phone is never kept locked.
        var at = back with { Elapsed = back.Elapsed + TimeSpan.FromMinutes(1) };
        state = Agent.Next(state, new LeaseReceived(t.Lease(2, until: T0.AddDays(8), issuedAt: T0.AddHours(1)), at)).State;
        Assert.Equal(LeaseMode.Unlocked, Mode(state, at));
    }

    [Fact]
    public void LeaseReceived_IssuedBeforeTheFloor_FloorDoesNotMoveBack()
    {
        using var t = new TestLeases();
        var state = t.Enrolled(t.Lease(1, until: T0.AddDays(7)));
        // Five days of uptime; then a lease issued on day 1 (held back by someone) arrives, Unlocked until day 8.
        var day5 = new DeviceTime(T0, TestLeases.Boot.Elapsed + TimeSpan.FromDays(5));
        state = Agent.Next(state, new LeaseReceived(t.Lease(2, until: T0.AddDays(8), issuedAt: T0.AddDays(1)), day5)).State;

        Assert.True(state.TrustedNow(day5) >= T0.AddDays(5));
        var day8 = day5 with { Elapsed = day5.Elapsed + TimeSpan.FromDays(3) };
        Assert.Equal(LeaseMode.Locked, Mode(state, day8));
    }
}
