using CsCheck;
using Lien.Protocol;
using Lien.Server.AgentApi;
using News = Lien.Server.AgentApi.StreamHub.News;

namespace Lien.Server.Tests.AgentApi;

/// <summary>
/// The stream's resend loop as a pure machine, one row per (state, input): what it writes, whether it reads the row,
/// when it wakes, and the state it keeps. Options are the defaults: heartbeat 25 s, first retry 5 s, at most 5 min.
/// </summary>
public sealed class LeaseStreamMachineTests
{
    private static readonly LeaseStreamMachine Machine = new(new StreamOptions());
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 30, 0, TimeSpan.Zero);
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static CheckInRow Row(long seq, long applied, int epoch = 1) =>
        new(epoch, seq, Jws(seq), LeaseMode.Locked, null, applied, "[]", Guid.Empty);

    private static string Jws(long seq) => $"jws-{seq}";

    private static News Lease(long seq) => new(false, seq, Jws(seq), 0);
    private static News Acked(long seq) => new(false, 0, null, seq);
    private static readonly News Reread = new(true, 0, null, 0);

    // Lease 5 written and acknowledged; the next ping at +20 s.
    private static readonly LeaseStreamState Idle = new(1, 5, null, 5, 5, T0 - 60 * Second, 5 * Second, T0 + 20 * Second);

    // Lease 6 written at -2 s, not acknowledged: the resend is due at +3 s, before the ping at +20 s.
    private static readonly LeaseStreamState Awaiting = new(1, 6, null, 5, 6, T0 - 2 * Second, 5 * Second, T0 + 20 * Second);
    private static readonly DateTimeOffset ResendAt = T0 + 3 * Second;

    // The resend deadline ran out and the row is being read (the step after "resend due, no ack seen").
    private static readonly LeaseStreamState Resending = Awaiting with { ResendDue = true };

    internal sealed record Case(Func<(LeaseStreamState, LeaseStreamStep)> Input, LeaseStreamState State, LeaseStreamStep Step);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // Opening: the row as read after subscribing, and the seq the device says it holds.
        ["open behind: the current lease is written at once, resent after 5 s"] = new(
            () => Machine.Open(Row(6, applied: 5), appliedSeq: 5, T0, random: 0.5),
            new(1, 6, null, 5, 6, T0, 5 * Second, T0 + 12.5 * Second),
            LeaseStreamStep.Lease(6, Jws(6), T0 + 5 * Second)),
        ["open holding the current lease (its ack was lost): counts as acked, nothing written"] = new(
            () => Machine.Open(Row(6, applied: 5), appliedSeq: 6, T0, random: 0.5),
            new(1, 6, null, 6, 6, default, 5 * Second, T0 + 12.5 * Second),
            LeaseStreamStep.Sleep(T0 + 12.5 * Second)),
        ["open without appliedSeq: the lease is written (the device holds nothing the server knows of)"] = new(
            () => Machine.Open(Row(1, applied: 0), appliedSeq: null, T0, random: 0),
            new(1, 1, null, 0, 1, T0, 5 * Second, T0),
            LeaseStreamStep.Lease(1, Jws(1), T0)),
        ["open holding an older lease than the acked one (acked by a check-in): nothing written, no text kept"] = new(
            () => Machine.Open(Row(6, applied: 6), appliedSeq: 5, T0, random: 0.5),
            new(1, 6, null, 6, 5, default, 5 * Second, T0 + 12.5 * Second),
            LeaseStreamStep.Sleep(T0 + 12.5 * Second)),
        ["open claiming a seq never issued (a restored database): no ack, the lease goes out at the first wake"] = new(
            () => Machine.Open(Row(6, applied: 5), appliedSeq: 7, T0, random: 0.5),
            new(1, 6, null, 5, 7, default, 5 * Second, T0 + 12.5 * Second),
            LeaseStreamStep.Sleep(default(DateTimeOffset) + 5 * Second)),

        // Woken by news from this node (the hub's Take).
        ["news of a newer lease: written at once, resent after 5 s, the text let go"] = new(
            () => Machine.Next(Idle, Lease(6), timeUp: false, T0, 0.5),
            Idle with { LeaseSeq = 6, Sent = 6, SentAt = T0, Retry = 5 * Second },
            LeaseStreamStep.Lease(6, Jws(6), T0 + 5 * Second)),
        ["news of a newer lease while awaiting an ack: the newer one written, the wait starts again at 5 s"] = new(
            () => Machine.Next(Awaiting with { Retry = 40 * Second }, Lease(7), timeUp: false, T0, 0.5),
            Awaiting with { LeaseSeq = 7, Sent = 7, SentAt = T0, Retry = 5 * Second },
            LeaseStreamStep.Lease(7, Jws(7), T0 + 5 * Second)),
        ["news of an older lease (commits reported out of order): the highest kept, nothing written"] = new(
            () => Machine.Next(Awaiting, Lease(4), timeUp: false, T0, 0.5),
            Awaiting,
            LeaseStreamStep.Sleep(ResendAt)),
        ["news of the lease already written: not written again before its resend"] = new(
            () => Machine.Next(Awaiting, Lease(6), timeUp: false, T0, 0.5),
            Awaiting,
            LeaseStreamStep.Sleep(ResendAt)),
        ["ack on this node: the resend stops, only pings"] = new(
            () => Machine.Next(Awaiting, Acked(6), timeUp: false, T0, 0.5),
            Awaiting with { Applied = 6 },
            LeaseStreamStep.Sleep(T0 + 20 * Second)),
        ["ack of an older lease than the one written: still resent"] = new(
            () => Machine.Next(Awaiting with { LeaseSeq = 7, Sent = 7 }, Acked(6), timeUp: false, T0, 0.5),
            Awaiting with { LeaseSeq = 7, Sent = 7, Applied = 6 },
            LeaseStreamStep.Sleep(ResendAt)),
        ["a newer lease and its ack in one wake-up: nothing written, no text kept"] = new(
            () => Machine.Next(Idle, Lease(6) with { AppliedSeq = 6 }, timeUp: false, T0, 0.5),
            Idle with { LeaseSeq = 6, Applied = 6 },
            LeaseStreamStep.Sleep(T0 + 20 * Second)),
        ["news from another node (or a lost notification connection): the row is read"] = new(
            () => Machine.Next(Idle, Reread, timeUp: false, T0, 0.5),
            Idle,
            LeaseStreamStep.ReadRow),
        ["woken with nothing new: back to sleep until the same deadline"] = new(
            () => Machine.Next(Awaiting, default, timeUp: false, T0, 0.5),
            Awaiting,
            LeaseStreamStep.Sleep(ResendAt)),

        // The deadline it asked for ran out (with whatever news the hub held at that moment).
        ["heartbeat due: a ping, the next one 0.8–1.2 heartbeats on"] = new(
            () => Machine.Next(Idle, default, timeUp: true, T0 + 20 * Second, 0.5),
            Idle with { NextPing = T0 + 45 * Second },
            LeaseStreamStep.Ping(T0 + 45 * Second)),
        ["heartbeat due while awaiting an ack: a ping, the resend deadline kept"] = new(
            () => Machine.Next(Awaiting with { SentAt = T0 + 10 * Second, Retry = 20 * Second }, default, timeUp: true, T0 + 20 * Second, 0),
            Awaiting with { SentAt = T0 + 10 * Second, Retry = 20 * Second, NextPing = T0 + 40 * Second },
            LeaseStreamStep.Ping(T0 + 30 * Second)),
        ["heartbeat and resend due together: the ping first"] = new(
            () => Machine.Next(Awaiting with { NextPing = ResendAt }, default, timeUp: true, ResendAt, 0.5),
            Awaiting with { NextPing = ResendAt + 25 * Second },
            LeaseStreamStep.Ping(ResendAt)),
        ["heartbeat due as news arrives: the news first, the ping stays due (the next wait returns at once)"] = new(
            () => Machine.Next(Idle, Lease(6), timeUp: true, T0 + 20 * Second, 0.5),
            Idle with { LeaseSeq = 6, Sent = 6, SentAt = T0 + 20 * Second, Retry = 5 * Second },
            LeaseStreamStep.Lease(6, Jws(6), T0 + 20 * Second)),
        ["resend due, no ack seen: the row is read (the ack may have reached another node, and the text was let go)"] = new(
            () => Machine.Next(Awaiting, default, timeUp: true, ResendAt, 0.5),
            Resending,
            LeaseStreamStep.ReadRow),
        ["resend due, the ack came with the wake-up: nothing written, no read"] = new(
            () => Machine.Next(Awaiting, Acked(6), timeUp: true, ResendAt, 0.5),
            Awaiting with { Applied = 6 },
            LeaseStreamStep.Sleep(T0 + 20 * Second)),
        ["resend due as a newer lease arrives: the newer one written, no read, the wait starts again at 5 s"] = new(
            () => Machine.Next(Awaiting with { Retry = 20 * Second }, Lease(7), timeUp: true, ResendAt, 0.5),
            Awaiting with { LeaseSeq = 7, Sent = 7, SentAt = ResendAt, Retry = 5 * Second },
            LeaseStreamStep.Lease(7, Jws(7), ResendAt + 5 * Second)),
        ["resend due and news from another node: one read"] = new(
            () => Machine.Next(Awaiting, Reread, timeUp: true, ResendAt, 0.5),
            Resending,
            LeaseStreamStep.ReadRow),

        // The row, read when the machine asked for it.
        ["resend due, the row shows no ack: written again, the wait doubles"] = new(
            () => Machine.Read(Resending, Row(6, applied: 5), ResendAt),
            Awaiting with { SentAt = ResendAt, Retry = 10 * Second },
            LeaseStreamStep.Lease(6, Jws(6), ResendAt + 10 * Second)),
        ["resend due after 2.5 min, the row shows no ack: the wait stops doubling at 5 min"] = new(
            () => Machine.Read(Resending with { Retry = 160 * Second }, Row(6, applied: 5), ResendAt),
            Awaiting with { SentAt = ResendAt, Retry = 300 * Second },
            LeaseStreamStep.Lease(6, Jws(6), T0 + 20 * Second)),
        ["resend due at the 5 min cap, no ack: stays at 5 min"] = new(
            () => Machine.Read(Resending with { Retry = 300 * Second, NextPing = T0 + 400 * Second }, Row(6, applied: 5), ResendAt),
            Awaiting with { SentAt = ResendAt, Retry = 300 * Second, NextPing = T0 + 400 * Second },
            LeaseStreamStep.Lease(6, Jws(6), ResendAt + 300 * Second)),
        ["resend due, the row shows the ack (it reached another node): nothing written"] = new(
            () => Machine.Read(Resending, Row(6, applied: 6), ResendAt),
            Awaiting with { Applied = 6 },
            LeaseStreamStep.Sleep(T0 + 20 * Second)),
        ["resend due, the row shows a newer lease: the newer one written, the wait starts again at 5 s"] = new(
            () => Machine.Read(Resending with { Retry = 20 * Second }, Row(7, applied: 5), ResendAt),
            Awaiting with { LeaseSeq = 7, Sent = 7, SentAt = ResendAt, Retry = 5 * Second },
            LeaseStreamStep.Lease(7, Jws(7), ResendAt + 5 * Second)),
        ["row read for news from another node, a newer lease: written at once"] = new(
            () => Machine.Read(Idle, Row(6, applied: 5), T0),
            Idle with { LeaseSeq = 6, Sent = 6, SentAt = T0, Retry = 5 * Second },
            LeaseStreamStep.Lease(6, Jws(6), T0 + 5 * Second)),
        ["row read for news from another node, nothing new: nothing written, the text it brought let go"] = new(
            () => Machine.Read(Idle, Row(5, applied: 5), T0),
            Idle,
            LeaseStreamStep.Sleep(T0 + 20 * Second)),
        ["row of another token epoch (re-enrolled): the stream is over"] = new(
            () => Machine.Read(Resending, Row(6, applied: 5, epoch: 2), ResendAt),
            Resending,
            LeaseStreamStep.End),
        ["row gone: the stream is over"] = new(
            () => Machine.Read(Idle, null, T0),
            Idle,
            LeaseStreamStep.End),
    };

    public static TheoryData<string> Names => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void Transition_Row_WritesWhatItSaysAndKeepsItsState(string name)
    {
        var c = Cases[name];
        var (state, step) = c.Input();
        Assert.Equal(c.Step, step);
        Assert.Equal(c.State, state);
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.5, 12.5)]
    [InlineData(0.75, 18.75)]
    public void Open_FirstHeartbeat_AnywhereInTheFirstInterval(double random, double seconds)
    {
        var (state, step) = Machine.Open(Row(5, applied: 5), appliedSeq: 5, T0, random);
        Assert.Equal(T0 + seconds * Second, state.NextPing);
        Assert.Equal(LeaseStreamStep.Sleep(state.NextPing), step);
    }

    [Theory]
    [InlineData(0.0, 20.0)]
    [InlineData(0.5, 25.0)]
    [InlineData(1.0, 30.0)]
    public void Next_HeartbeatDue_NextPingWithin20PercentOfTheHeartbeat(double random, double seconds)
    {
        var now = T0 + 20 * Second;
        var (state, step) = Machine.Next(Idle, default, timeUp: true, now, random);
        Assert.Equal(now + seconds * Second, state.NextPing);
        Assert.Equal(LeaseStreamStep.Ping(state.NextPing), step);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(4L, null)] // older than the recorded ack
    [InlineData(5L, null)] // the recorded ack
    [InlineData(6L, 6L)]
    [InlineData(7L, 7L)] // the current lease
    [InlineData(8L, null)] // never issued
    public void HeldAck_SeqTheDeviceSaysItHolds_RecordedWhenNewerThanTheAckAndIssued(long? appliedSeq, long? expected) =>
        Assert.Equal(expected, LeaseStreamMachine.HeldAck(Row(7, applied: 5), appliedSeq));

    [Fact]
    public void Run_NeverAcknowledged_ResentAfter5sDoublingTo5MinWithPingsBetween()
    {
        var run = new Run(Row(6, applied: 5), appliedSeq: 5);
        run.Until(T0 + TimeSpan.FromMinutes(20));

        var leases = run.Writes.Where(w => w.Write == StreamWrite.Lease).ToList();
        Assert.All(leases, w => Assert.Equal(6, w.Seq));
        double[] waits = [5, 10, 20, 40, 80, 160, 300, 300];
        Assert.Equal(waits, leases.Zip(leases.Skip(1), (a, b) => (b.At - a.At).TotalSeconds).Take(waits.Length));
        // Every resend read the row first (the text was let go after each write); the pings never read.
        Assert.Equal(leases.Count - 1, run.Reads);
        var pings = run.Writes.Where(w => w.Write == StreamWrite.Ping).Select(w => w.At).ToList();
        Assert.All(pings.Zip(pings.Skip(1), (a, b) => b - a), gap => Assert.Equal(25 * Second, gap));
    }

    [Fact]
    public void Run_AckedOnAnotherNodeAfterTwoResends_NoMoreLeasesOnlyPings()
    {
        var run = new Run(Row(6, applied: 5), appliedSeq: 5);
        run.Until(T0 + 16 * Second); // written at 0, 5 and 15 s
        run.Db = Row(6, applied: 6);
        run.Until(T0 + TimeSpan.FromMinutes(20));

        Assert.Equal([0.0, 5.0, 15.0], run.Writes.Where(w => w.Write == StreamWrite.Lease).Select(w => (w.At - T0).TotalSeconds));
        Assert.Equal(3, run.Reads); // two resends, and the one that found the ack
        Assert.True(run.Writes.Count(w => w.Write == StreamWrite.Ping) >= 40);
    }

    // Commits here and elsewhere, acks here and elsewhere, deadlines, in any order: the stream writes only the row's leases
    // with their own text, never goes back to an older one, keeps no text while it sleeps, and in the end the device has
    // been sent the newest lease or has acknowledged it.
    [Fact]
    public void Run_AnyCommitsAndAcks_NewestLeaseReachesTheDeviceAndNoTextIsKeptAsleep()
    {
        var op = Gen.Int[0, 5];
        Gen.Select(op.Array[1, 30], Gen.Double[0, 1]).Sample((ops, random) =>
        {
            var run = new Run(Row(3, applied: 2), appliedSeq: 2, random);
            foreach (var o in ops)
            {
                var db = run.Db;
                switch (o)
                {
                    case 0: run.Db = Row(db.LeaseSeq + 1, db.AppliedSeq); run.Wake(Lease(db.LeaseSeq + 1)); break; // committed here
                    case 1: run.Db = Row(db.LeaseSeq + 1, db.AppliedSeq); run.Wake(Reread); break; // committed elsewhere
                    case 2: run.Db = db with { AppliedSeq = db.LeaseSeq }; run.Wake(Acked(db.LeaseSeq)); break; // acked here
                    case 3: run.Db = db with { AppliedSeq = db.LeaseSeq }; break; // acked elsewhere
                    default: run.TimeUp(); break;
                }
            }
            run.Until(run.Now + TimeSpan.FromMinutes(10));

            var leases = run.Writes.Where(w => w.Write == StreamWrite.Lease).ToList();
            Assert.All(leases, w => Assert.Equal(Jws(w.Seq), w.Jws));
            Assert.True(leases.Zip(leases.Skip(1)).All(p => p.First.Seq <= p.Second.Seq));
            Assert.True(run.Db.AppliedSeq == run.Db.LeaseSeq || leases.LastOrDefault()?.Seq == run.Db.LeaseSeq);
        }, iter: 500);
    }

    internal sealed record Written(StreamWrite Write, long Seq, string? Jws, DateTimeOffset At);

    /// <summary>The handler's loop without I/O: a row standing for the database, the clock moved to each deadline.</summary>
    private sealed class Run
    {
        private readonly double _random;
        private LeaseStreamState _state;
        private LeaseStreamStep _step;

        public Run(CheckInRow db, long? appliedSeq, double random = 0.5)
        {
            (Db, _random) = (db, random);
            (_state, _step) = Machine.Open(db, appliedSeq, T0, random);
            Settle();
        }

        public CheckInRow Db { get; set; }
        public DateTimeOffset Now { get; private set; } = T0;
        public List<Written> Writes { get; } = [];
        public int Reads { get; private set; }

        public void Wake(News news) => Apply(Machine.Next(_state, news, timeUp: false, Now, _random));

        public void TimeUp()
        {
            Now = Max(Now, _step.WakeAt);
            Apply(Machine.Next(_state, default, timeUp: true, Now, _random));
        }

        public void Until(DateTimeOffset end)
        {
            while (_step.WakeAt <= end) TimeUp();
            Now = end;
        }

        private void Apply((LeaseStreamState, LeaseStreamStep) next)
        {
            (_state, _step) = next;
            Settle();
        }

        // Reads the row until the machine has what it needs, writes, and checks that a sleeping stream holds no text.
        private void Settle()
        {
            while (_step.Reread)
            {
                Reads++;
                (_state, _step) = Machine.Read(_state, Db, Now);
            }
            Assert.False(_step.Over);
            if (_step.Write != StreamWrite.Nothing) Writes.Add(new(_step.Write, _step.Seq, _step.Jws, Now));
            Assert.Null(_state.Jws);
        }

        private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a >= b ? a : b;
    }
}
