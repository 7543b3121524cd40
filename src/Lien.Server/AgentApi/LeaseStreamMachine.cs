namespace Lien.Server.AgentApi;

internal enum StreamWrite { Nothing, Lease, Ping }

/// <summary>
/// What a device's stream keeps between wake-ups: numbers, and a lease's text only until it is written — an idle
/// stream holds none (about 3 KB a stream); a resend reads the row again for it.
/// </summary>
/// <param name="Epoch">The token epoch the stream was opened with: a row of another one ends the stream.</param>
/// <param name="LeaseSeq">The newest lease committed for the device that the stream knows of.</param>
/// <param name="Jws">Its text, while it waits to be written.</param>
/// <param name="Applied">The newest seq the device acknowledged, or said it holds.</param>
/// <param name="Sent">The newest seq written to this stream, or the one the device held when it connected.</param>
/// <param name="SentAt">When it was last written: the resend wait runs from here.</param>
/// <param name="Retry">The wait for an ack after that write; doubles with each resend.</param>
/// <param name="NextPing">When the next heartbeat is due.</param>
/// <param name="ResendDue">The resend wait ran out: the lease goes again unless an ack turns up first.</param>
internal readonly record struct LeaseStreamState(int Epoch, long LeaseSeq, string? Jws, long Applied, long Sent, DateTimeOffset SentAt,
    TimeSpan Retry, DateTimeOffset NextPing, bool ResendDue = false)
{
    public DateTimeOffset ResendAt => LeaseSeq > Applied ? SentAt + Retry : DateTimeOffset.MaxValue;
}

/// <summary>
/// What the stream's handler does next: read the device's row and hand it to <see cref="LeaseStreamMachine.Read"/>
/// (<see cref="Reread"/>); end (<see cref="Over"/>); or write <see cref="Write"/> (a lease: <see cref="Seq"/> and
/// <see cref="Jws"/>), then sleep until <see cref="WakeAt"/> or news, whichever is first.
/// </summary>
internal readonly record struct LeaseStreamStep(StreamWrite Write, long Seq, string? Jws, DateTimeOffset WakeAt, bool Reread = false, bool Over = false)
{
    public static LeaseStreamStep ReadRow => new(StreamWrite.Nothing, 0, null, default, Reread: true);
    public static LeaseStreamStep End => new(StreamWrite.Nothing, 0, null, default, Over: true);
    public static LeaseStreamStep Sleep(DateTimeOffset wakeAt) => new(StreamWrite.Nothing, 0, null, wakeAt);
    public static LeaseStreamStep Ping(DateTimeOffset wakeAt) => new(StreamWrite.Ping, 0, null, wakeAt);
    public static LeaseStreamStep Lease(long seq, string jws, DateTimeOffset wakeAt) => new(StreamWrite.Lease, seq, jws, wakeAt);
}

/// <summary>
/// The instant channel's resend loop (PROTOCOL §4) with the I/O taken out: given what the stream knows and what just
/// happened — it opened, news or a deadline woke it, the row it asked for was read — the state it keeps and the one
/// step its handler takes. Randomness (the heartbeat's jitter) and the time come in as arguments, so a test can replay
/// any run.
/// </summary>
internal sealed class LeaseStreamMachine(StreamOptions options)
{
    /// <summary>
    /// The seq the device says it holds, when it is to be recorded as its acknowledgement, as a check-in's appliedSeq
    /// is: newer than the recorded ack and issued. Without it, a device whose ack was lost is sent what it has, again and again.
    /// </summary>
    public static long? HeldAck(CheckInRow row, long? appliedSeq) =>
        appliedSeq is { } held && held > row.AppliedSeq && held <= row.LeaseSeq ? held : null;

    /// <summary>The stream opened on <paramref name="row"/> (read after subscribing, so no commit is missed).</summary>
    public (LeaseStreamState, LeaseStreamStep) Open(CheckInRow row, long? appliedSeq, DateTimeOffset now, double random)
    {
        // The first heartbeat falls anywhere in the first interval, so streams opened together (a cell tower coming
        // back, a server restart) do not all ping in the same seconds ever after.
        var state = new LeaseStreamState(row.TokenEpoch, row.LeaseSeq, row.LeaseJws, HeldAck(row, appliedSeq) ?? row.AppliedSeq,
            Sent: appliedSeq ?? 0, SentAt: default, options.FirstRetry, NextPing: now + options.Heartbeat * random);
        return Settle(state, now);
    }

    /// <summary>
    /// The stream woke: by <paramref name="news"/>, or when <paramref name="timeUp"/> by the step's deadline (with
    /// whatever news the hub held by then). What ran out is what was due: the clock is not asked, as a timer may fire a
    /// fraction early.
    /// </summary>
    public (LeaseStreamState, LeaseStreamStep) Next(LeaseStreamState state, StreamHub.News news, bool timeUp, DateTimeOffset now, double random)
    {
        if (timeUp && state.NextPing <= state.ResendAt)
        {
            // Later heartbeats are jittered ±20 %. A ping needs no database read. News that came with it is handled
            // first, and the ping, still due, goes at the next wait (which returns at once).
            if (news == default)
                return Sleep(state with { NextPing = now + options.Heartbeat * (0.8 + 0.4 * random) }, StreamWrite.Ping);
        }
        else if (timeUp) state = state with { ResendDue = true };
        state = Learn(state, news.LeaseSeq, news.LeaseJws, news.AppliedSeq);
        return news.Reread ? (state, LeaseStreamStep.ReadRow) : Settle(state, now);
    }

    /// <summary>The row the last step asked for: absent, or of another token epoch (re-enrolled), ends the stream.</summary>
    public (LeaseStreamState, LeaseStreamStep) Read(LeaseStreamState state, CheckInRow? row, DateTimeOffset now)
    {
        if (row is null || row.TokenEpoch != state.Epoch) return (state, LeaseStreamStep.End);
        // The row's lease is the truth, and its text is what a resend came for; an ack only ever moves forward.
        return Settle(state with { LeaseSeq = row.LeaseSeq, Jws = row.LeaseJws, Applied = Math.Max(state.Applied, row.AppliedSeq) }, now);
    }

    // Commits may be reported out of order: the highest wins.
    private static LeaseStreamState Learn(LeaseStreamState state, long seq, string? jws, long applied)
    {
        if (seq > state.LeaseSeq) state = state with { LeaseSeq = seq, Jws = jws };
        return applied > state.Applied ? state with { Applied = applied } : state;
    }

    // Write the lease when it is newer than what the device has been sent, or again when the resend is due, as long as
    // it is not acknowledged. Once the text is gone (written before), read the row: for the text, and because the ack
    // may have reached another node.
    private (LeaseStreamState, LeaseStreamStep) Settle(LeaseStreamState state, DateTimeOffset now)
    {
        if (state.LeaseSeq > state.Applied && (state.LeaseSeq > state.Sent || state.ResendDue))
        {
            if (state.Jws is not { } jws) return (state, LeaseStreamStep.ReadRow);
            var retry = state.LeaseSeq > state.Sent ? options.FirstRetry : TimeSpan.FromTicks(Math.Min(state.Retry.Ticks * 2, options.MaxRetry.Ticks));
            var (next, step) = Sleep(state with { Sent = state.LeaseSeq, SentAt = now, Retry = retry, Jws = null, ResendDue = false }, StreamWrite.Lease);
            return (next, step with { Seq = next.Sent, Jws = jws });
        }
        // Nothing to write: the device has it, or has been sent it.
        return Sleep(state with { Jws = null, ResendDue = false }, StreamWrite.Nothing);
    }

    // Sleep until the heartbeat or the resend, whichever is first.
    private static (LeaseStreamState, LeaseStreamStep) Sleep(LeaseStreamState state, StreamWrite write)
    {
        var resendAt = state.ResendAt;
        return (state, new LeaseStreamStep(write, 0, null, state.NextPing <= resendAt ? state.NextPing : resendAt));
    }
}
