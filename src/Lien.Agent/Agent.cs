using Lien.Protocol;

namespace Lien.Agent;

/// <summary>Something that happened to the device. Each carries a reading of both clocks, taken when it happened.</summary>
public abstract record AgentEvent(DeviceTime At);

/// <summary>The device (or the agent process) started: the monotonic clock may have restarted at zero.</summary>
public sealed record Booted(DeviceTime At) : AgentEvent(At);

/// <summary>
/// The enrollment answered: <see cref="Body"/> exactly as received, <see cref="Signature"/> its <c>Lien-Signature</c>
/// header, <see cref="Nonce"/> the nonce the request sent. Accepted (docs/PROTOCOL.md §1), the device trusts its key set,
/// keeps the token and answer key, and takes the lease it carried; refused, nothing changes but the count.
/// <see cref="Identity"/> is the key the enrollment was made with, when it is not the one the state holds (each
/// enrollment makes its key): it becomes the device's key only with an accepted answer.
/// </summary>
public sealed record Enrolled(byte[] Body, string? Signature, string Nonce, DeviceTime At, DeviceIdentity? Identity = null) : AgentEvent(At);

/// <summary>
/// A check-in answered (body, <c>Lien-Signature</c>, the nonce sent). Accepted (§2), a newer key set signed by a trusted
/// key replaces the trusted one, and its lease is offered; refused, nothing changes but the count.
/// </summary>
public sealed record CheckedIn(byte[] Body, string? Signature, string Nonce, DeviceTime At) : AgentEvent(At);

/// <summary>
/// A lease arrived on the instant stream: it is applied only if it passes every rule. The lease already held, arriving
/// again, means the server missed the acknowledgement: it is acknowledged again (a check-in's lease needs no ack, as the
/// check-in itself carried <c>appliedSeq</c>).
/// </summary>
public sealed record LeaseReceived(string Jws, DeviceTime At) : AgentEvent(At);

/// <summary>Time passed; the agent looks at both clocks.</summary>
public sealed record Tick(DeviceTime At) : AgentEvent(At);

/// <summary>The user (or the network) set the wall clock. It can move the lock earlier, never later.</summary>
public sealed record WallClockChanged(DeviceTime At) : AgentEvent(At);

/// <summary>The borrower typed an unlock code on the lock screen keypad; see <see cref="IOfflineCodes"/>.</summary>
public sealed record CodeEntered(string Code, DeviceTime At) : AgentEvent(At);

/// <summary>The borrower pressed Refresh: check in now.</summary>
public sealed record RefreshRequested(DeviceTime At) : AgentEvent(At);

/// <summary>The device's expired token was renewed (<c>POST /v1/device/renew</c>): the new one replaces it.</summary>
public sealed record TokenRenewed(string DeviceToken, DeviceTime At) : AgentEvent(At);

/// <summary>The server answered 401: the token is from an earlier enrollment. The lease stays; the device enrolls again.</summary>
public sealed record TokenRejected(DeviceTime At) : AgentEvent(At);

/// <summary>What the agent asks the device (and its network side) to do.</summary>
public abstract record AgentEffect;

/// <summary>Tell the server this seq is applied (<c>POST /v1/device/ack</c>).</summary>
public sealed record Ack(long Seq) : AgentEffect;

/// <summary>Show the lock screen and restrict the device (emergency and incoming calls always work).</summary>
public sealed record LockNow : AgentEffect;

/// <summary>Remove the lock screen.</summary>
public sealed record UnlockNow : AgentEffect;

/// <summary>The lock screen's content changed; redraw it.</summary>
public sealed record ScreenChanged(LockScreenView Screen) : AgentEffect;

/// <summary>Raise a notification: the applied lease brought a new notice (another kind, installment or deadline than the one held).</summary>
public sealed record NoticeShown(Notice Notice) : AgentEffect;

/// <summary>A lease was refused; it changed nothing.</summary>
public sealed record LeaseRefused(RefusalReason Reason, string Detail) : AgentEffect;

/// <summary>An answer from the server (or the key set it carried) was refused; the answer changed nothing else.</summary>
public sealed record AnswerRefused(RefusalReason Reason, string Detail) : AgentEffect;

/// <summary>An unlock code was not accepted; show <paramref name="Message"/> on the keypad.</summary>
public sealed record CodeRefused(string Message) : AgentEffect;

/// <summary>Check in with the server now.</summary>
public sealed record CheckInNow : AgentEffect;

/// <summary>Enroll again (the token was rejected).</summary>
public sealed record EnrollNow : AgentEffect;

/// <summary>
/// The extension point for offline unlock codes (OpenPAYGO Token; conformance vectors in tests/conformance/openpaygo/). An implementation reads
/// the code, its own counters in <see cref="AgentState.CodeState"/>, and answers how far the code extends the held
/// Unlocked lease. Rate-limiting wrong codes belongs to the implementation (it can count in its state).
/// </summary>
public interface IOfflineCodes
{
    /// <summary>The extension's starting state from the enrollment answer's <paramref name="codes"/> (null: codes stay unavailable).</summary>
    string? Enroll(AgentState state, OfflineCodes codes);

    /// <summary>Redeems <paramref name="code"/> typed at <paramref name="at"/> (both clocks), when the agent trusts it is <paramref name="trustedNow"/>.</summary>
    CodeResult Redeem(AgentState state, string code, DeviceTime at, DateTimeOffset trustedNow);

    /// <summary>How many codes were refused as wrong since the device enrolled (0 before codes are set up): check-in's <c>wrongCodes</c>.</summary>
    int WrongCodes(AgentState state);
}

/// <summary>
/// What an unlock code did: <see cref="UnlockedUntil"/> (and the extension's new state) when accepted, else
/// <see cref="Refusal"/> (the state may still change: wrong codes are counted). <see cref="Released"/>: a release code.
/// </summary>
public sealed record CodeResult(DateTimeOffset? UnlockedUntil, string? CodeState, string? Refusal, bool Released = false);

/// <summary>
/// The agent as a pure state machine: <c>Next(state, event) → (state, effects)</c>. No I/O, no clock of its own:
/// the runtime feeds it events and carries out its effects, and a port (Kotlin) can copy it line for line.
/// </summary>
public static class Agent
{
    /// <summary>The state after <paramref name="e"/>, and what the device must do about it.</summary>
    public static (AgentState State, IReadOnlyList<AgentEffect> Effects) Next(AgentState state, AgentEvent e, IOfflineCodes? codes = null)
    {
        var wasLocked = state.Locked;
        var beforeSeq = state.AppliedSeq;
        var effects = new List<AgentEffect>();
        state = Observe(state, e);

        switch (e)
        {
            case Enrolled en:
                var before = state;
                if (en.Identity is not null) state = state with { Identity = en.Identity };
                var enrolled = AnswerAcceptance.Enrollment(state, en);
                if (enrolled.Answer is not { } r)
                {
                    state = Refuse(before, enrolled.Reason!.Value, enrolled.Detail, effects);
                    break;
                }
                state = state with { Enrollment = new Enrollment(r.DeviceId, r.LenderId, r.DeviceToken, enrolled.AnswerKey!), KeySet = enrolled.KeySet };
                if (codes is not null && r.Codes is not null) state = state with { CodeState = codes.Enroll(state, r.Codes) };
                state = Offer(state, r.Lease, e.At, effects);
                break;
            case CheckedIn ci when state.Enrollment is { } enrollment:
                var answered = AnswerAcceptance.CheckIn(state, ci);
                if (answered.Answer is not { } answer)
                {
                    state = Refuse(state, answered.Reason!.Value, answered.Detail, effects);
                    break;
                }
                // A refused key set leaves the trust as it was; the lease is still judged against that trust.
                var (keySet, problem) = AnswerAcceptance.Follow(state, answer.KeySet, enrollment.LenderId);
                state = keySet is null ? Refuse(state, RefusalReason.KeySet, problem!, effects) : state with { KeySet = keySet };
                if (answer.DeviceToken is { } renewed) state = state with { Enrollment = state.Enrollment! with { DeviceToken = renewed } };
                state = Offer(state, answer.Lease, e.At, effects);
                break;
            case LeaseReceived lr when state.Lease is { } held && held.Jws == lr.Jws:
                effects.Add(new Ack(held.Claims.Seq));
                break;
            case LeaseReceived lr:
                state = Offer(state, lr.Jws, e.At, effects);
                break;
            case CodeEntered code:
                state = Redeem(state, code, codes, effects);
                break;
            // A state saved before answers were signed has no answer key or key set: that enrollment cannot check in; enroll again.
            case Booted when state.Enrollment is { } saved && (saved.AnswerKey is null || state.KeySet is null):
                state = state with { Enrollment = null };
                effects.Add(new EnrollNow());
                break;
            case RefreshRequested:
                effects.Add(new CheckInNow());
                break;
            case TokenRenewed tr when state.Enrollment is { } enrollment:
                state = state with { Enrollment = enrollment with { DeviceToken = tr.DeviceToken } };
                break;
            case TokenRejected when state.Enrollment is not null:
                state = state with { Enrollment = null };
                effects.Add(new EnrollNow());
                break;
        }

        var trusted = state.TrustedNow(e.At);
        var isLocked = state.EffectiveMode(trusted) == LeaseMode.Locked;
        state = state with { Locked = isLocked };
        if (e is Booted || wasLocked != isLocked) effects.Add(isLocked ? new LockNow() : new UnlockNow());
        if (e is Booted || wasLocked != isLocked || state.AppliedSeq != beforeSeq || e is CodeEntered)
            effects.Add(new ScreenChanged(LockScreenView.Of(state, trusted)));
        return (state, effects);
    }

    // Both clocks, read at every event: re-anchor the signed floor at this monotonic reading and raise the high-water mark.
    private static AgentState Observe(AgentState state, AgentEvent e)
    {
        var elapsed = e.At.Elapsed;
        var anchor = state.Anchor;
        if (anchor is not null)
        {
            // After a reboot the monotonic clock starts again at zero: the floor carries on from its last known value.
            var rebooted = e is Booted || elapsed < anchor.Elapsed;
            anchor = rebooted ? anchor with { Elapsed = elapsed } : new TimeAnchor(anchor.FloorAt(elapsed), elapsed);
        }
        state = state with { Anchor = anchor };
        var trusted = state.TrustedNow(e.At);
        return trusted > state.HighWater ? state with { HighWater = trusted } : state;
    }

    private static AgentState Offer(AgentState state, string jws, DeviceTime at, List<AgentEffect> effects)
    {
        // The same lease delivered again (every check-in carries the current one) is not a replay worth counting.
        if (state.Lease?.Jws == jws) return state;
        var verdict = LeaseAcceptance.Check(state, jws);
        if (verdict.Claims is not { } claims)
        {
            var reason = verdict.Reason!.Value;
            effects.Add(new LeaseRefused(reason, verdict.Detail));
            return state.Refused(reason);
        }

        // The signed issuedAt is evidence of the time: the floor moves up to it, never down. The high-water mark restarts
        // from the signed floor, so a wall clock once set forward cannot keep a current phone locked for ever.
        var floor = state.Anchor?.FloorAt(at.Elapsed) is { } f && f > claims.IssuedAt ? f : claims.IssuedAt;
        effects.Add(new Ack(claims.Seq));
        // A notice is raised once: a renewal carrying the same notice (or only a new amount) raises nothing.
        var before = state.Lease?.Claims.Notice;
        if (claims.Notice is { } notice && (before is null || notice.Kind != before.Kind || notice.Installment != before.Installment || notice.Deadline != before.Deadline))
            effects.Add(new NoticeShown(notice));
        return state with
        {
            Lease = new AppliedLease(jws, claims),
            Anchor = new TimeAnchor(floor, at.Elapsed),
            HighWater = floor,
            CodeUnlockedUntil = null,
            CodeReleased = false,
        };
    }

    private static AgentState Refuse(AgentState state, RefusalReason reason, string detail, List<AgentEffect> effects)
    {
        effects.Add(new AnswerRefused(reason, detail));
        return state.Refused(reason);
    }

    private static AgentState Redeem(AgentState state, CodeEntered code, IOfflineCodes? codes, List<AgentEffect> effects)
    {
        if (codes is null)
        {
            effects.Add(new CodeRefused("Unlock codes are not available on this device yet. Tap Refresh when you are online."));
            return state;
        }
        var result = codes.Redeem(state, code.Code, code.At, state.TrustedNow(code.At));
        if (result.Refusal is { } refusal) effects.Add(new CodeRefused(refusal));
        return state with
        {
            CodeUnlockedUntil = result.UnlockedUntil ?? state.CodeUnlockedUntil,
            CodeState = result.CodeState ?? state.CodeState,
            CodeReleased = state.CodeReleased || result.Released,
        };
    }
}
