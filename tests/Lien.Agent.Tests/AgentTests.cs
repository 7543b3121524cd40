using Lien.Protocol;

namespace Lien.Agent.Tests;

/// <summary>The pure state machine, one row per (state, event): the effects it asks for and what it then enforces.</summary>
public sealed class AgentTests
{
    private static readonly DateTimeOffset T0 = TestLeases.T0;

    private static DeviceTime At(TimeSpan after, TimeSpan? wallShift = null) =>
        new(T0 + after + (wallShift ?? TimeSpan.Zero), TestLeases.Boot.Elapsed + after);

    private sealed record Row(AgentState State, AgentEvent Event, string[] Effects, LeaseMode Mode, long Seq);

    private static readonly Dictionary<string, Func<TestLeases, Row>> Rows = new()
    {
        ["first boot, not enrolled: unlocked, nothing to enforce"] = t =>
            new(AgentState.New(new DeviceIdentity(t.Imeis, "k")), new Booted(TestLeases.Boot), ["UnlockNow", "ScreenChanged"], LeaseMode.Unlocked, 0),
        ["enrolled with an Unlocked lease: applied and acked"] = t =>
            new(Unenrolled(t), t.EnrollAnswer(t.Lease(1, until: T0.AddDays(7)), 1, At(TimeSpan.Zero)), ["Ack(1)", "ScreenChanged"], LeaseMode.Unlocked, 1),
        ["enrolled with a Locked lease: locks"] = t =>
            new(Unenrolled(t), t.EnrollAnswer(t.Lease(1, LeaseMode.Locked), 1, At(TimeSpan.Zero)), ["Ack(1)", "LockNow", "ScreenChanged"], LeaseMode.Locked, 1),
        ["locked, newer Unlocked lease arrives: unlocks"] = t =>
            new(t.Enrolled(t.Lease(1, LeaseMode.Locked)), new LeaseReceived(t.Lease(2, until: T0.AddDays(7)), At(TimeSpan.FromMinutes(1))),
                ["Ack(2)", "UnlockNow", "ScreenChanged"], LeaseMode.Unlocked, 2),
        ["unlocked, newer Locked lease arrives: locks"] = t =>
            new(t.Enrolled(t.Lease(1, until: T0.AddDays(7))), new LeaseReceived(t.Lease(2, LeaseMode.Locked), At(TimeSpan.FromMinutes(1))),
                ["Ack(2)", "LockNow", "ScreenChanged"], LeaseMode.Locked, 2),
        ["older lease arrives: refused as a replay"] = t =>
            new(t.Enrolled(t.Lease(2, LeaseMode.Locked)), new LeaseReceived(t.Lease(1, until: T0.AddDays(7)), At(TimeSpan.FromMinutes(1))),
                ["LeaseRefused(Replay)"], LeaseMode.Locked, 2),
        ["the held lease again on the stream (the server missed the ack): acked again, nothing else"] = t =>
        {
            var lease = t.Lease(1, LeaseMode.Locked);
            return new(t.Enrolled(lease), new LeaseReceived(lease, At(TimeSpan.FromMinutes(1))), ["Ack(1)"], LeaseMode.Locked, 1);
        },
        ["the held lease again in a check-in (which carried appliedSeq): nothing"] = t =>
        {
            var lease = t.Lease(1, LeaseMode.Locked);
            return new(t.Enrolled(lease), t.CheckInAnswer(lease, At(TimeSpan.FromMinutes(1))), [], LeaseMode.Locked, 1);
        },
        ["released, newer Locked lease: Released is final"] = t =>
            new(t.Enrolled(t.Lease(3, LeaseMode.Released)), new LeaseReceived(t.Lease(4, LeaseMode.Locked), At(TimeSpan.FromMinutes(1))),
                ["LeaseRefused(ReleasedFinal)"], LeaseMode.Released, 3),
        ["unlocked until +1 h, tick at +59 min: still unlocked"] = t =>
            new(t.Enrolled(t.Lease(1, until: T0.AddHours(1))), new Tick(At(TimeSpan.FromMinutes(59))), [], LeaseMode.Unlocked, 1),
        ["unlocked until +1 h, tick at +1 h: locks by itself"] = t =>
            new(t.Enrolled(t.Lease(1, until: T0.AddHours(1))), new Tick(At(TimeSpan.FromHours(1))), ["LockNow", "ScreenChanged"], LeaseMode.Locked, 1),
        ["locked by its own clock, wall clock set back a day: stays locked"] = t =>
        {
            var s = Agent.Next(t.Enrolled(t.Lease(1, until: T0.AddHours(1))), new Tick(At(TimeSpan.FromHours(2)))).State;
            return new(s, new WallClockChanged(At(TimeSpan.FromHours(2), TimeSpan.FromDays(-1))), [], LeaseMode.Locked, 1);
        },
        ["unlocked until +1 h, wall clock set forward 2 h: locks (earlier, never later)"] = t =>
            new(t.Enrolled(t.Lease(1, until: T0.AddHours(1))), new WallClockChanged(At(TimeSpan.FromMinutes(1), TimeSpan.FromHours(2))),
                ["LockNow", "ScreenChanged"], LeaseMode.Locked, 1),
        ["no deadline (no active plan): a year later still unlocked"] = t =>
            new(t.Enrolled(t.Lease(1)), new Tick(At(TimeSpan.FromDays(365))), [], LeaseMode.Unlocked, 1),
        ["boot with a Locked lease held: locks at boot"] = t =>
            new(t.Enrolled(t.Lease(1, LeaseMode.Locked)), new Booted(new DeviceTime(T0.AddHours(1), TimeSpan.FromSeconds(3))),
                ["LockNow", "ScreenChanged"], LeaseMode.Locked, 1),
        ["refresh pressed: check in now"] = t =>
            new(t.Enrolled(t.Lease(1, LeaseMode.Locked)), new RefreshRequested(At(TimeSpan.FromMinutes(1))), ["CheckInNow"], LeaseMode.Locked, 1),
        ["server answered 401: forget the token, keep the lease, enroll again"] = t =>
            new(t.Enrolled(t.Lease(1, LeaseMode.Locked)), new TokenRejected(At(TimeSpan.FromMinutes(1))), ["EnrollNow"], LeaseMode.Locked, 1),
        ["unlock code without the code extension: refused, nothing changes"] = t =>
            new(t.Enrolled(t.Lease(1, LeaseMode.Locked)), new CodeEntered("123456789", At(TimeSpan.FromMinutes(1))),
                ["CodeRefused", "ScreenChanged"], LeaseMode.Locked, 1),
        ["lease before enrollment: refused"] = t =>
            new(Unenrolled(t), new LeaseReceived(t.Lease(1, LeaseMode.Locked), At(TimeSpan.Zero)), ["LeaseRefused(NotEnrolled)"], LeaseMode.Unlocked, 0),
    };

    public static TheoryData<string> Cases => [.. Rows.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Next_Row_EmitsEffectsAndEnforces(string name)
    {
        using var t = new TestLeases();
        var row = Rows[name](t);
        var (state, effects) = Agent.Next(row.State, row.Event);
        Assert.Equal(row.Effects, effects.Select(Describe));
        Assert.Equal(row.Mode, state.EffectiveMode(state.TrustedNow(row.Event.At)));
        Assert.Equal(row.Seq, state.AppliedSeq);
    }

    [Fact]
    public void Next_TokenRenewedOrAnAnswerCarryingOne_ReplacesTheTokenAndNothingElse()
    {
        using var t = new TestLeases();
        var state = t.Enrolled(t.Lease(1, LeaseMode.Locked));
        var (renewed, effects) = Agent.Next(state, new TokenRenewed("renewed-token", At(TimeSpan.FromMinutes(1))));
        Assert.Equal("renewed-token", renewed.Enrollment!.DeviceToken);
        Assert.Equal(state.Enrollment! with { DeviceToken = "renewed-token" }, renewed.Enrollment);
        Assert.Empty(effects);

        var answer = t.CheckIn(state.Lease!.Jws) with { DeviceToken = "from-the-answer" };
        Assert.Equal("from-the-answer", Agent.Next(renewed, t.Answer(answer, At(TimeSpan.FromMinutes(2)))).State.Enrollment!.DeviceToken);
        var without = answer with { DeviceToken = null };
        Assert.Equal("renewed-token", Agent.Next(renewed, t.Answer(without, At(TimeSpan.FromMinutes(2)))).State.Enrollment!.DeviceToken);
    }

    private static AgentState Unenrolled(TestLeases t) => Agent.Next(AgentState.New(t.Identity), new Booted(TestLeases.Boot)).State;

    internal static string Describe(AgentEffect e) => e switch
    {
        Ack a => $"Ack({a.Seq})",
        LeaseRefused r => $"LeaseRefused({r.Reason})",
        AnswerRefused r => $"AnswerRefused({r.Reason})",
        _ => e.GetType().Name,
    };
}
