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

    public EnrollResponse Enrollment(string lease, long seq) =>
        new(DeviceId, LenderId, "token-1", seq, lease, [TrustKey], T0.AddHours(6), T0);

    public CheckInResponse CheckIn(string lease) =>
        new(JsonSerializer.Deserialize<LeaseClaims>(Jws.Verify(lease, _ => Key, LeaseClaims.MediaType).Payload, LeaseClaims.Json)!.Seq, lease, [TrustKey],
            T0.AddHours(6), T0);

    /// <summary>A device that booted and enrolled, holding <paramref name="lease"/>.</summary>
    public AgentState Enrolled(string lease, DeviceTime? at = null)
    {
        var s = AgentState.New(new DeviceIdentity(Imeis, "unused-in-pure-tests"));
        s = Agent.Next(s, new Booted(Boot)).State;
        var seq = JsonSerializer.Deserialize<LeaseClaims>(Jws.Verify(lease, _ => Key, LeaseClaims.MediaType).Payload, LeaseClaims.Json)!.Seq;
        return Agent.Next(s, new Enrolled(Enrollment(lease, seq), at ?? Boot)).State;
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
