using System.Security.Cryptography;
using System.Text.Json;
using Lien.Protocol;

namespace Lien.Agent.Tests;

/// <summary>A lender's signing key, a device, and leases signed for it: the raw material of the agent tests.</summary>
internal sealed class TestLeases : IDisposable
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
    public static readonly DeviceTime Boot = new(T0, TimeSpan.FromSeconds(5));

    public ECDsa Key { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    public string Kid { get; } = "lk-test";
    public Guid LenderId { get; } = Guid.NewGuid();
    public Guid DeviceId { get; } = Guid.NewGuid();
    public IReadOnlyList<string> Imeis { get; } = [LenderApi.NewImei(), LenderApi.NewImei()];

    public static readonly LockScreen Screen = new("Mkopo Phones", "https://example.com/logo.png", "0800 723 000", "*483*7#", null,
        145_000, "KES", "LN-7F3K", "https://pay.example.com/LN-7F3K", "This device is locked due to an overdue installment payment.");

    public LeaseClaims Claims(long seq, LeaseMode mode = LeaseMode.Unlocked, DateTimeOffset? until = null, DateTimeOffset? issuedAt = null) =>
        new(LenderId, DeviceId, Imeis, seq, issuedAt ?? T0, mode, mode == LeaseMode.Unlocked ? until : null, Screen, $"test lease {seq}");

    public string Sign(LeaseClaims claims, ECDsa? key = null, string? kid = null) =>
        Jws.Sign(JsonSerializer.SerializeToUtf8Bytes(claims, LeaseClaims.Json), key ?? Key, kid ?? Kid, LeaseClaims.MediaType);

    public string Lease(long seq, LeaseMode mode = LeaseMode.Unlocked, DateTimeOffset? until = null, DateTimeOffset? issuedAt = null) =>
        Sign(Claims(seq, mode, until, issuedAt));

    public TrustKey TrustKey => TrustKey.From(Kid, Key);

    /// <summary>The device's own key pair, which the answer key is sealed to.</summary>
    public DeviceIdentity Identity { get; }

    /// <summary>The check-in answer key the "server" seals into the enrollment answer and signs check-in answers with.</summary>
    public byte[] AnswerKey { get; } = RandomNumberGenerator.GetBytes(AnswerSignature.AnswerKeyBytes);

    public TestLeases() => Identity = DeviceKeys.NewIdentity(Imeis);

    /// <summary>A key-set statement at <paramref name="version"/> listing and signed by <paramref name="signers"/> (default: the test key).</summary>
    public KeySetStatement KeySet(long version = 1, IReadOnlyList<(string Kid, ECDsa Key)>? signers = null, IReadOnlyList<string>? revoked = null)
    {
        signers ??= [(Kid, Key)];
        var claims = new KeySetClaims(KeySetClaims.Type, LenderId, version, T0.ToUnixTimeSeconds(), [.. signers.Select(s => TrustKey.From(s.Kid, s.Key))], revoked ?? []);
        return KeySetStatement.Sign(claims, signers);
    }

    /// <summary>The enrollment answer as the server sends it: key set, answer key sealed to the device, nonce echoed, body signed ES256 by the test key.</summary>
    public EnrollResponse Enrollment(string lease, long seq, string nonce = "enroll-nonce", DeviceIdentity? identity = null)
    {
        using var device = DeviceKeys.Open(identity ?? Identity);
        return new(DeviceId, LenderId, "token-1", seq, lease, KeySet(), T0.AddHours(6), T0, null,
            SealedAnswerKey.Seal(AnswerKey, device.ExportSubjectPublicKeyInfo(), DeviceId), nonce);
    }

    /// <summary>The event of <paramref name="answer"/> arriving, its body signed by <paramref name="signer"/> (default: the test key).</summary>
    public Enrolled Answer(EnrollResponse answer, DeviceTime at, string nonce = "enroll-nonce", (string Kid, ECDsa Key)? signer = null)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(answer, LeaseClaims.Json);
        var (kid, key) = signer ?? (Kid, Key);
        return new Enrolled(body, AnswerSignature.SignEs256(body, key, kid), nonce, at);
    }

    /// <summary>The enrollment answer carrying <paramref name="lease"/>, arriving at <paramref name="at"/>.</summary>
    public Enrolled EnrollAnswer(string lease, long seq, DeviceTime at) => Answer(Enrollment(lease, seq), at);

    public CheckInResponse CheckIn(string lease, KeySetStatement? keySet = null, string nonce = "checkin-nonce") =>
        new(JsonSerializer.Deserialize<LeaseClaims>(System.Buffers.Text.Base64Url.DecodeFromChars(lease.Split('.')[1]), LeaseClaims.Json)!.Seq, lease,
            keySet ?? KeySet(), T0.AddHours(6), T0, nonce);

    /// <summary>The event of a check-in answer arriving, signed HS256 under the answer key (or <paramref name="answerKey"/>).</summary>
    public CheckedIn Answer(CheckInResponse answer, DeviceTime at, string nonce = "checkin-nonce", byte[]? answerKey = null)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(answer, LeaseClaims.Json);
        return new CheckedIn(body, AnswerSignature.SignHs256(body, answerKey ?? AnswerKey), nonce, at);
    }

    /// <summary>The check-in answer carrying <paramref name="lease"/> (and <paramref name="keySet"/>), arriving at <paramref name="at"/>.</summary>
    public CheckedIn CheckInAnswer(string lease, DeviceTime at, KeySetStatement? keySet = null) => Answer(CheckIn(lease, keySet), at);

    /// <summary>A device that booted and enrolled, holding <paramref name="lease"/>.</summary>
    public AgentState Enrolled(string lease, DeviceTime? at = null)
    {
        var s = AgentState.New(Identity);
        s = Agent.Next(s, new Booted(Boot)).State;
        var seq = JsonSerializer.Deserialize<LeaseClaims>(Jws.Verify(lease, _ => Key, LeaseClaims.MediaType).Payload, LeaseClaims.Json)!.Seq;
        var (state, effects) = Agent.Next(s, EnrollAnswer(lease, seq, at ?? Boot));
        Assert.DoesNotContain(effects, e => e is AnswerRefused);
        return state;
    }

    public void Dispose() => Key.Dispose();
}

/// <summary>Both device clocks, set by the test.</summary>
internal sealed class FakeDeviceClock(DateTimeOffset wall, TimeSpan elapsed) : IDeviceClock
{
    public DateTimeOffset Wall { get; set; } = wall;
    public TimeSpan Elapsed { get; set; } = elapsed;

    /// <summary>Real time passing: both clocks move.</summary>
    public void Advance(TimeSpan d)
    {
        Wall += d;
        Elapsed += d;
    }
}

/// <summary>A Random that always answers the same fraction, so the jitter is known.</summary>
internal sealed class FixedRandom(double value) : Random
{
    public override double NextDouble() => value;
}

internal static class Wait
{
    /// <summary>Polls (in real time) until <paramref name="done"/>; <paramref name="between"/> may move a fake clock, so backoff delays elapse without sleeping.</summary>
    public static async Task Until(Func<bool> done, string what, Action? between = null)
    {
        for (var i = 0; i < 500 && !done(); i++)
        {
            between?.Invoke();
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        Assert.True(done(), "timed out waiting for " + what);
    }
}
