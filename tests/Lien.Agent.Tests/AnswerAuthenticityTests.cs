using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lien.Protocol;

namespace Lien.Agent.Tests;

/// <summary>
/// The pure agent and the server's answers (docs/PROTOCOL.md §1, §2, §3 "Trust keys"): an answer counts only with a good
/// Lien-Signature over its exact body and the nonce this request sent; a key set only when a key the device trusts signed it.
/// </summary>
public sealed class AnswerAuthenticityTests : IDisposable
{
    private static readonly DateTimeOffset T0 = TestLeases.T0;
    private readonly TestLeases _t = new();
    private readonly ECDsa _rotated = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose()
    {
        _t.Dispose();
        _rotated.Dispose();
        _stranger.Dispose();
    }

    private static DeviceTime At(TimeSpan after) => new(T0 + after, TestLeases.Boot.Elapsed + after);

    private AgentState Fresh() => Agent.Next(AgentState.New(_t.Identity), new Booted(TestLeases.Boot)).State;

    private static byte[] Flip(byte[] body, int at)
    {
        var copy = (byte[])body.Clone();
        copy[at] ^= 0x01;
        return copy;
    }

    public static TheoryData<string> BadEnrollments => ["tampered body", "no signature", "signed by a key outside its key set", "another request's nonce", "HS256 header"];

    [Theory]
    [MemberData(nameof(BadEnrollments))]
    public void Enrolled_BadAnswer_RefusedAndCountedNothingElseChanges(string what)
    {
        var good = _t.EnrollAnswer(_t.Lease(1, LeaseMode.Locked), 1, At(TimeSpan.Zero));
        var (e, reason) = what switch
        {
            "tampered body" => (good with { Body = Flip(good.Body, Encoding.UTF8.GetString(good.Body).IndexOf("token-1", StringComparison.Ordinal)) },
                RefusalReason.AnswerSignature),
            "no signature" => (good with { Signature = null }, RefusalReason.AnswerSignature),
            "signed by a key outside its key set" => (_t.Answer(_t.Enrollment(_t.Lease(1, LeaseMode.Locked), 1), At(TimeSpan.Zero), signer: ("lk-test", _stranger)),
                RefusalReason.AnswerSignature),
            "another request's nonce" => (good with { Nonce = "a-later-request" }, RefusalReason.AnswerNonce),
            "HS256 header" => (good with { Signature = AnswerSignature.SignHs256(good.Body, _t.AnswerKey) }, RefusalReason.AnswerSignature),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };

        var (state, effects) = Agent.Next(Fresh(), e);

        Assert.Contains(effects, x => x is AnswerRefused r && r.Reason == reason);
        Assert.Equal(1, state.RefusedFor(reason));
        Assert.Null(state.Enrollment);
        Assert.Null(state.KeySet);
        Assert.Equal(0, state.AppliedSeq);
        Assert.False(state.Locked);
    }

    [Fact]
    public void Enrolled_OldAnswerReplayedToAResetPhone_RefusedForItsNonce()
    {
        // The phone enrolled (nonce A) and was reset; the attacker kept that answer and replays it to the new enrollment (nonce B).
        var recorded = _t.EnrollAnswer(_t.Lease(1, until: T0.AddDays(30)), 1, At(TimeSpan.Zero));
        Assert.DoesNotContain(Agent.Next(Fresh(), recorded).Effects, e => e is AnswerRefused);

        var reset = Fresh();
        var (state, effects) = Agent.Next(reset, recorded with { Nonce = "the-reset-phone's-own-nonce" });

        Assert.Contains(effects, e => e is AnswerRefused { Reason: RefusalReason.AnswerNonce });
        Assert.Null(state.Enrollment);
        Assert.Equal(0, state.AppliedSeq);
    }

    [Fact]
    public void Enrolled_GoodAnswer_TrustsItsKeySetAndOpensTheAnswerKey()
    {
        var (state, effects) = Agent.Next(Fresh(), _t.EnrollAnswer(_t.Lease(1, LeaseMode.Locked), 1, At(TimeSpan.Zero)));

        Assert.DoesNotContain(effects, e => e is AnswerRefused);
        Assert.Equal([_t.Kid], state.KeySet!.Keys.Select(k => k.Kid));
        Assert.Equal(Convert.ToBase64String(_t.AnswerKey), state.Enrollment!.AnswerKey);
        Assert.Equal(1, state.AppliedSeq);
    }

    [Fact]
    public void Enrolled_PinnedThumbprint_OnlyAKeySetListingThatKeyIsTaken()
    {
        var pinned = AgentState.New(_t.Identity with { PinnedKey = TrustKey.From("lk-other", _stranger).Thumbprint() });
        var answer = _t.EnrollAnswer(_t.Lease(1, LeaseMode.Locked), 1, At(TimeSpan.Zero));
        var (refused, effects) = Agent.Next(pinned, answer);
        Assert.Contains(effects, e => e is AnswerRefused { Reason: RefusalReason.KeySet });
        Assert.Null(refused.Enrollment);

        var (taken, _) = Agent.Next(AgentState.New(_t.Identity with { PinnedKey = _t.TrustKey.Thumbprint() }), answer);
        Assert.NotNull(taken.Enrollment);
    }

    public static TheoryData<string> BadCheckIns => ["tampered body", "no signature", "another enrollment's answer key", "another request's nonce", "ES256 by the lender key"];

    [Theory]
    [MemberData(nameof(BadCheckIns))]
    public void CheckedIn_BadAnswer_RefusedAndItsLeaseNotApplied(string what)
    {
        var state = _t.Enrolled(_t.Lease(1, LeaseMode.Locked));
        var good = _t.CheckInAnswer(_t.Lease(2, until: T0.AddDays(7)), At(TimeSpan.FromMinutes(1)));
        var (e, reason) = what switch
        {
            "tampered body" => (good with { Body = Flip(good.Body, good.Body.Length - 5) }, RefusalReason.AnswerSignature),
            "no signature" => (good with { Signature = null }, RefusalReason.AnswerSignature),
            "another enrollment's answer key" => (_t.Answer(_t.CheckIn(_t.Lease(2, until: T0.AddDays(7))), At(TimeSpan.FromMinutes(1)),
                answerKey: RandomNumberGenerator.GetBytes(32)), RefusalReason.AnswerSignature),
            "another request's nonce" => (good with { Nonce = "another" }, RefusalReason.AnswerNonce),
            "ES256 by the lender key" => (good with { Signature = AnswerSignature.SignEs256(good.Body, _t.Key, _t.Kid) }, RefusalReason.AnswerSignature),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };

        var (next, effects) = Agent.Next(state, e);

        Assert.Contains(effects, x => x is AnswerRefused r && r.Reason == reason);
        Assert.Equal(1, next.RefusedFor(reason));
        Assert.Equal(1, next.AppliedSeq);
        Assert.True(next.Locked);
        // The same answer, as the server signed it, is taken.
        Assert.Equal(2, Agent.Next(state, good).State.AppliedSeq);
    }

    [Fact]
    public void CheckedIn_SignedRotation_FollowedAndTheNewKeysLeaseApplied()
    {
        var state = _t.Enrolled(_t.Lease(1, LeaseMode.Locked));
        var rotation = _t.KeySet(2, [(_t.Kid, _t.Key), ("lk-rotated", _rotated)]);
        var lease = _t.Sign(_t.Claims(2, until: T0.AddDays(7)), _rotated, "lk-rotated");

        var (next, effects) = Agent.Next(state, _t.CheckInAnswer(lease, At(TimeSpan.FromMinutes(1)), rotation));

        Assert.DoesNotContain(effects, e => e is AnswerRefused);
        Assert.Equal(2, next.KeySet!.Version);
        Assert.Equal([_t.Kid, "lk-rotated"], next.KeySet.Keys.Select(k => k.Kid));
        Assert.Equal(2, next.AppliedSeq);
        Assert.Contains(effects, e => e is UnlockNow);
    }

    public static TheoryData<string> BadKeySets =>
        ["signed only by the new key", "unsigned", "a signature that does not verify", "a trusted kid with another key", "an older version", "a revoked key brought back"];

    [Theory]
    [MemberData(nameof(BadKeySets))]
    public void CheckedIn_KeySetNotVouchedFor_RefusedTrustUnchanged(string what)
    {
        var state = _t.Enrolled(_t.Lease(1, LeaseMode.Locked));
        // Trust at version 3, having revoked lk-gone.
        using var gone = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        state = Agent.Next(state, _t.CheckInAnswer(_t.Lease(1, LeaseMode.Locked), At(TimeSpan.FromMinutes(1)), _t.KeySet(3, revoked: ["lk-gone"]))).State;
        Assert.Equal(3, state.KeySet!.Version);
        var good = _t.KeySet(4, [(_t.Kid, _t.Key), ("lk-rotated", _rotated)]);
        var statement = what switch
        {
            "signed only by the new key" => _t.KeySet(4, [("lk-rotated", _rotated)]),
            "unsigned" => good with { Signatures = [] },
            "a signature that does not verify" => good with { Signatures = [good.Signatures[0] with { Signature = good.Signatures[1].Signature }, good.Signatures[1]] },
            "a trusted kid with another key" => _t.KeySet(4, [(_t.Kid, _stranger)]),
            "an older version" => _t.KeySet(2, [(_t.Kid, _t.Key), ("lk-rotated", _rotated)]),
            "a revoked key brought back" => _t.KeySet(4, [(_t.Kid, _t.Key), ("lk-gone", gone)]),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };
        var lease = _t.Sign(_t.Claims(2, until: T0.AddDays(7)), _rotated, "lk-rotated");

        var (next, effects) = Agent.Next(state, _t.CheckInAnswer(lease, At(TimeSpan.FromMinutes(2)), statement));

        if (what == "an older version")
        {
            // Not news: passed over without a signature check, and not counted.
            Assert.DoesNotContain(effects, e => e is AnswerRefused);
        }
        else
        {
            Assert.Contains(effects, e => e is AnswerRefused { Reason: RefusalReason.KeySet });
            Assert.Equal(1, next.RefusedFor(RefusalReason.KeySet));
        }
        Assert.Same(state.KeySet, next.KeySet);
        Assert.Contains(effects, e => e is LeaseRefused { Reason: RefusalReason.UnknownKey });
        Assert.Equal(1, next.AppliedSeq);
    }

    [Fact]
    public void CheckedIn_Revocation_LeasesByTheRevokedKeyRefusedFromThenOn()
    {
        var state = _t.Enrolled(_t.Lease(1, LeaseMode.Locked));
        state = Agent.Next(state, _t.CheckInAnswer(_t.Lease(1, LeaseMode.Locked), At(TimeSpan.FromMinutes(1)),
            _t.KeySet(2, [(_t.Kid, _t.Key), ("lk-rotated", _rotated)]))).State;
        // The revocation: listed and signed by the new key, and (its last signature) by the key it revokes.
        var revocation = KeySetStatement.Sign(
            new KeySetClaims(KeySetClaims.Type, _t.LenderId, 3, T0.ToUnixTimeSeconds(), [TrustKey.From("lk-rotated", _rotated)], [_t.Kid]),
            [("lk-rotated", _rotated), (_t.Kid, _t.Key)]);
        var resigned = _t.Sign(_t.Claims(2, LeaseMode.Locked), _rotated, "lk-rotated");

        var (next, effects) = Agent.Next(state, _t.CheckInAnswer(resigned, At(TimeSpan.FromMinutes(2)), revocation));

        Assert.DoesNotContain(effects, e => e is AnswerRefused);
        Assert.Equal(["lk-rotated"], next.KeySet!.Keys.Select(k => k.Kid));
        Assert.Equal([_t.Kid], next.KeySet.Revoked);
        Assert.Equal(2, next.AppliedSeq);
        var (after, refused) = Agent.Next(next, new LeaseReceived(_t.Lease(3, until: T0.AddDays(7)), At(TimeSpan.FromMinutes(3))));
        Assert.Contains(refused, e => e is LeaseRefused { Reason: RefusalReason.RevokedKey });
        Assert.Equal(2, after.AppliedSeq);
        Assert.True(after.Locked);
    }

    [Fact]
    public void CheckedIn_RevocationMissedTheRotation_FollowedByTheRevokedKeysLastSignature()
    {
        // Offline through the rotation (version 2): the device still trusts only lk-test when the revocation arrives.
        var state = _t.Enrolled(_t.Lease(1, LeaseMode.Locked));
        var revocation = KeySetStatement.Sign(
            new KeySetClaims(KeySetClaims.Type, _t.LenderId, 3, T0.ToUnixTimeSeconds(), [TrustKey.From("lk-rotated", _rotated)], [_t.Kid]),
            [("lk-rotated", _rotated), (_t.Kid, _t.Key)]);
        var unsignedByIt = revocation with { Signatures = [revocation.Signatures[0]] };
        var resigned = _t.Sign(_t.Claims(2, LeaseMode.Locked), _rotated, "lk-rotated");

        var (stuck, refused) = Agent.Next(state, _t.CheckInAnswer(resigned, At(TimeSpan.FromMinutes(1)), unsignedByIt));
        Assert.Contains(refused, e => e is AnswerRefused { Reason: RefusalReason.KeySet });
        Assert.Equal(1, stuck.KeySet!.Version);

        var (next, effects) = Agent.Next(state, _t.CheckInAnswer(resigned, At(TimeSpan.FromMinutes(1)), revocation));
        Assert.DoesNotContain(effects, e => e is AnswerRefused);
        Assert.Equal(["lk-rotated"], next.KeySet!.Keys.Select(k => k.Kid));
        Assert.Equal(2, next.AppliedSeq);
    }

    [Fact]
    public void TokenRejected_ThenEnrolledWithAStrangersKeySet_RefusedTheTrustSurvivesTheLostToken()
    {
        var state = _t.Enrolled(_t.Lease(1, LeaseMode.Locked));
        state = Agent.Next(state, new TokenRejected(At(TimeSpan.FromMinutes(1)))).State;
        Assert.Null(state.Enrollment);
        var forged = new EnrollResponse(_t.DeviceId, _t.LenderId, "token-2", 2, _t.Sign(_t.Claims(2, until: T0.AddDays(30)), _stranger, "lk-x"),
            _t.KeySet(9, [("lk-x", _stranger)]), T0.AddHours(6), T0, null, _t.Enrollment(_t.Lease(1), 1).AnswerKey, "enroll-nonce");

        var (next, effects) = Agent.Next(state, _t.Answer(forged, At(TimeSpan.FromMinutes(2)), signer: ("lk-x", _stranger)));

        Assert.Contains(effects, e => e is AnswerRefused { Reason: RefusalReason.KeySet });
        Assert.Null(next.Enrollment);
        Assert.True(next.Locked);
        Assert.Equal(1, next.KeySet!.Version);
    }

    [Fact]
    public void Booted_StateSavedBeforeSignedAnswers_EnrollsAgainKeepingItsLease()
    {
        var enrolled = _t.Enrolled(_t.Lease(1, LeaseMode.Locked));
        var old = enrolled with { Enrollment = enrolled.Enrollment! with { AnswerKey = null! }, KeySet = null };

        var (state, effects) = Agent.Next(old, new Booted(At(TimeSpan.FromHours(1))));

        Assert.Contains(effects, e => e is EnrollNow);
        Assert.Null(state.Enrollment);
        Assert.Equal(1, state.AppliedSeq);
        Assert.True(state.Locked);
        Assert.DoesNotContain(Agent.Next(enrolled, new Booted(At(TimeSpan.FromHours(1)))).Effects, e => e is EnrollNow);
    }

    [Fact]
    public void KeySetStatement_AsJson_IsTheGeneralJwsSerialization()
    {
        var json = JsonSerializer.SerializeToElement(_t.KeySet(1), LeaseClaims.Json);
        Assert.Equal(["payload", "signatures"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["protected", "signature"], json.GetProperty("signatures")[0].EnumerateObject().Select(p => p.Name));
    }
}
