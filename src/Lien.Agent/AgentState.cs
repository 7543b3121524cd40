using System.Collections.Immutable;
using Lien.Protocol;

namespace Lien.Agent;

/// <summary>
/// The device's own identity: its IMEIs and the P-256 key it enrolls with (PKCS#8, base64). The reference agent keeps
/// the key in the state file; a real device generates it in the Android Keystore (or secure element) and keeps only an
/// alias here, so the private key never leaves the hardware. <see cref="PinnedKey"/>: the RFC 7638 thumbprint of a lender
/// key the provisioning QR code named, when it named one; the first key set the device takes must list that key.
/// </summary>
public sealed record DeviceIdentity(IReadOnlyList<string> Imeis, string PrivateKey, string? PinnedKey = null);

/// <summary>
/// What enrollment gave the device: its registration, its bearer token and its check-in answer key (base64, opened
/// from the sealed <c>answerKey</c>), with which every check-in answer must be signed.
/// </summary>
public sealed record Enrollment(Guid DeviceId, Guid LenderId, string DeviceToken, string AnswerKey);

/// <summary>The lease the device applied: the compact JWS exactly as received and its verified claims.</summary>
public sealed record AppliedLease(string Jws, LeaseClaims Claims);

/// <summary>
/// A reading of the device's two clocks: the wall clock (which the user can set) and monotonic time since boot
/// (Android's elapsedRealtime: cannot be set, restarts at zero on reboot).
/// </summary>
public readonly record struct DeviceTime(DateTimeOffset Wall, TimeSpan Elapsed);

/// <summary>At monotonic <see cref="Elapsed"/> (this boot) the time was at least <see cref="At"/>, by signed evidence.</summary>
public sealed record TimeAnchor(DateTimeOffset At, TimeSpan Elapsed)
{
    /// <summary>The signed lower bound on now: <see cref="At"/> plus the monotonic time since.</summary>
    public DateTimeOffset FloorAt(TimeSpan elapsed) => At + (elapsed >= Elapsed ? elapsed - Elapsed : TimeSpan.Zero);
}

/// <summary>Why a lease was refused (docs/PROTOCOL.md §3 "Acceptance rules").</summary>
public enum RefusalReason
{
    /// <summary>Received before the device enrolled: there is nothing to check it against.</summary>
    NotEnrolled,
    /// <summary>Rule 1: not three canonical base64url segments, too long, or claims that do not parse.</summary>
    Malformed,
    /// <summary>Rule 2: <c>alg</c> other than ES256 (<c>none</c>, HS256 …).</summary>
    Algorithm,
    /// <summary>Rule 2: <c>typ</c> other than <c>lien-lease+jwt</c>.</summary>
    Type,
    /// <summary>Rule 2: no <c>kid</c>, or one that names no pinned trust key.</summary>
    UnknownKey,
    /// <summary>Rule 3: the signature does not verify.</summary>
    BadSignature,
    /// <summary>Rule 4: another device's lease (device id or IMEIs).</summary>
    WrongDevice,
    /// <summary>Rule 5: seq not above the held lease's: a replay or a reordered delivery.</summary>
    Replay,
    /// <summary>Rule 6: the device holds a Released lease, which is final.</summary>
    ReleasedFinal,
    /// <summary>Rule 2: the lease's <c>kid</c> names a key the trusted key set revoked.</summary>
    RevokedKey,
    /// <summary>An answer from the server without a good <c>Lien-Signature</c> (missing, malformed, wrong key, tampered body).</summary>
    AnswerSignature,
    /// <summary>A signed answer that does not echo the nonce this request sent: an old answer replayed.</summary>
    AnswerNonce,
    /// <summary>A key-set statement refused: unsigned or wrongly signed, not signed by a trusted key, older, or bringing back a revoked key.</summary>
    KeySet,
    /// <summary>An answer that does not parse, or whose sealed answer key does not open with the device key.</summary>
    AnswerMalformed,
}

/// <summary>
/// Everything the agent knows, persisted after every change. <see cref="Anchor"/> is the signed time floor (the held
/// lease's issuedAt, or later signed evidence, plus monotonic time); <see cref="HighWater"/> is the latest trusted time
/// ever seen, so a reboot (which restarts the monotonic clock) never lets the device believe an earlier time.
/// <see cref="Locked"/> is what the device enforces now. <see cref="CodeState"/> is opaque storage for the offline-code
/// extension (<see cref="IOfflineCodes"/>). <see cref="KeySet"/> is the lender key set the device trusts (its keys, and
/// every key revoked): kept through a re-enrollment, gone only with a factory reset.
/// </summary>
public sealed record AgentState(
    DeviceIdentity Identity,
    Enrollment? Enrollment,
    AppliedLease? Lease,
    TimeAnchor? Anchor,
    DateTimeOffset HighWater,
    ImmutableSortedDictionary<RefusalReason, int> Refusals,
    bool Locked = false,
    DateTimeOffset? CodeUnlockedUntil = null,
    string? CodeState = null,
    bool CodeReleased = false,
    KeySetClaims? KeySet = null)
{
    /// <summary>A device that has never enrolled: only its identity.</summary>
    public static AgentState New(DeviceIdentity identity) =>
        new(identity, null, null, null, DateTimeOffset.MinValue, ImmutableSortedDictionary<RefusalReason, int>.Empty);

    /// <summary>The highest seq applied (0: none); what check-in reports as <c>appliedSeq</c>.</summary>
    public long AppliedSeq => Lease?.Claims.Seq ?? 0;

    /// <summary>The time the agent believes: never earlier than the signed floor or the high-water mark, whatever the wall clock says.</summary>
    public DateTimeOffset TrustedNow(DeviceTime now)
    {
        var t = now.Wall > HighWater ? now.Wall : HighWater;
        return Anchor is { } a && a.FloorAt(now.Elapsed) > t ? a.FloorAt(now.Elapsed) : t;
    }

    /// <summary>What the device must be at <paramref name="trustedNow"/>: the held lease's mode, Locked once its <c>unlockedUntil</c> has passed.</summary>
    public LeaseMode EffectiveMode(DateTimeOffset trustedNow)
    {
        if (Lease is null) return LeaseMode.Unlocked; // never enrolled, or not financed: nothing to enforce
        var c = Lease.Claims;
        if (c.Mode == LeaseMode.Released || CodeReleased) return LeaseMode.Released;
        if (c.Mode == LeaseMode.Unlocked && c.UnlockedUntil is null) return LeaseMode.Unlocked; // no deadline
        // An unlock code counts from the lease it was entered under: it can unlock a Locked lease, or outlast an Unlocked one.
        var until = UnlockedUntil;
        return until is { } u && trustedNow < u ? LeaseMode.Unlocked : LeaseMode.Locked;
    }

    /// <summary>The instant the device locks by itself: the later of the lease's <c>unlockedUntil</c> and what codes set; null when locked now.</summary>
    public DateTimeOffset? UnlockedUntil
    {
        get
        {
            var lease = Lease?.Claims is { Mode: LeaseMode.Unlocked, UnlockedUntil: { } u } ? u : (DateTimeOffset?)null;
            return (lease, CodeUnlockedUntil) switch
            {
                ({ } a, { } b) => a > b ? a : b,
                ({ } a, null) => a,
                (null, var b) => b,
            };
        }
    }

    /// <summary>How many leases (or answers) were refused for <paramref name="reason"/>.</summary>
    public int RefusedFor(RefusalReason reason) => Refusals.GetValueOrDefault(reason);

    /// <summary>The state with one more refusal for <paramref name="reason"/>.</summary>
    internal AgentState Refused(RefusalReason reason) => this with { Refusals = Refusals.SetItem(reason, RefusedFor(reason) + 1) };
}
