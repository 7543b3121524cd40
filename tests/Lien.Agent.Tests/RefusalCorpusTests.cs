using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lien.Protocol;

namespace Lien.Agent.Tests;

/// <summary>Leases the agent must refuse (PROTOCOL §3): each one changes nothing and is counted under its reason.</summary>
public sealed class RefusalCorpusTests
{
    private static readonly DateTimeOffset T0 = TestLeases.T0;

    private static string B64(string s) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(s));

    private static string Payload(TestLeases t, long seq) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(t.Claims(seq, until: T0.AddDays(7)), LeaseClaims.Json));

    private static readonly Dictionary<string, (RefusalReason Reason, Func<TestLeases, string> Make)> Corpus = new()
    {
        ["forged signature (another key, the pinned kid)"] = (RefusalReason.BadSignature, t =>
        {
            using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            return t.Sign(t.Claims(5, until: T0.AddDays(7)), forger);
        }
        ),
        ["payload edited after signing"] = (RefusalReason.BadSignature, t =>
        {
            var parts = t.Lease(5, LeaseMode.Locked).Split('.');
            return $"{parts[0]}.{Payload(t, 5)}.{parts[2]}";
        }
        ),
        ["unknown kid"] = (RefusalReason.UnknownKey, t => t.Sign(t.Claims(5, until: T0.AddDays(7)), kid: "lk-unknown")),
        ["another device's id"] = (RefusalReason.WrongDevice, t => t.Sign(t.Claims(5, until: T0.AddDays(7)) with { DeviceId = Guid.NewGuid() })),
        ["another device's IMEIs"] = (RefusalReason.WrongDevice, t => t.Sign(t.Claims(5, until: T0.AddDays(7)) with { Imeis = [LenderApi.NewImei()] })),
        ["replayed: the held seq, other content"] = (RefusalReason.Replay, t => t.Lease(3, until: T0.AddDays(30))),
        ["replayed: an old seq"] = (RefusalReason.Replay, t => t.Lease(1, until: T0.AddDays(30))),
        ["reordered: seq 2 after seq 3"] = (RefusalReason.Replay, t => t.Lease(2, until: T0.AddDays(30))),
        ["truncated signature"] = (RefusalReason.BadSignature, t => t.Lease(5, until: T0.AddDays(7))[..^10]),
        ["truncated in half"] = (RefusalReason.Malformed, t => t.Lease(5, until: T0.AddDays(7))[..120]),
        ["truncated to two segments"] = (RefusalReason.Malformed, t => string.Join('.', t.Lease(5, until: T0.AddDays(7)).Split('.')[..2])),
        ["non-canonical base64url (padding)"] = (RefusalReason.Malformed, t => t.Lease(5, until: T0.AddDays(7)) + "="),
        ["larger than 16 KiB"] = (RefusalReason.Malformed, t => t.Sign(t.Claims(5, until: T0.AddDays(7)) with { Reason = new string('x', 17 * 1024) })),
        ["alg none, empty signature"] = (RefusalReason.Algorithm, t => $"{B64($$"""{"alg":"none","kid":"{{t.Kid}}","typ":"lien-lease+jwt"}""")}.{Payload(t, 5)}."),
        ["alg HS256 keyed with the public key"] = (RefusalReason.Algorithm, t =>
        {
            var input = $"{B64($$"""{"alg":"HS256","kid":"{{t.Kid}}","typ":"lien-lease+jwt"}""")}.{Payload(t, 5)}";
            var mac = HMACSHA256.HashData(t.Key.ExportSubjectPublicKeyInfo(), Encoding.ASCII.GetBytes(input));
            return $"{input}.{Base64Url.EncodeToString(mac)}";
        }
        ),
        ["typ other than lien-lease+jwt"] = (RefusalReason.Type, t =>
            Jws.Sign(JsonSerializer.SerializeToUtf8Bytes(t.Claims(5, until: T0.AddDays(7)), LeaseClaims.Json), t.Key, t.Kid, "JWT")),
        ["claims that are not a lease"] = (RefusalReason.Malformed, t => Jws.Sign("""{"hello":"world"}"""u8, t.Key, t.Kid, LeaseClaims.MediaType)),
    };

    public static TheoryData<string> Cases => [.. Corpus.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void LeaseReceived_Tampered_RefusedCountedAndNothingApplied(string name)
    {
        using var t = new TestLeases();
        var (reason, make) = Corpus[name];
        // The device holds seq 3, Locked (leases 1..3 were delivered in order).
        var state = t.Enrolled(t.Lease(1, until: T0.AddDays(7)));
        state = Agent.Next(state, new LeaseReceived(t.Lease(2, until: T0.AddDays(7)), TestLeases.Boot)).State;
        state = Agent.Next(state, new LeaseReceived(t.Lease(3, LeaseMode.Locked), TestLeases.Boot)).State;
        var held = state.Lease;

        var (next, effects) = Agent.Next(state, new LeaseReceived(make(t), TestLeases.Boot));

        var refused = Assert.IsType<LeaseRefused>(Assert.Single(effects));
        Assert.Equal(reason, refused.Reason);
        Assert.Same(held, next.Lease);
        Assert.Equal(LeaseMode.Locked, next.EffectiveMode(next.TrustedNow(TestLeases.Boot)));
        Assert.Equal(1, next.RefusedFor(reason));
        Assert.Equal(1, next.Refusals.Values.Sum());
    }

    [Fact]
    public void LeaseReceived_Seq3Then2_AppliesThreeRefusesTwo()
    {
        using var t = new TestLeases();
        var state = t.Enrolled(t.Lease(1, until: T0.AddDays(7)));
        var three = t.Lease(3, LeaseMode.Locked);
        var two = t.Lease(2, until: T0.AddDays(30));

        state = Agent.Next(state, new LeaseReceived(three, TestLeases.Boot)).State;
        state = Agent.Next(state, new LeaseReceived(two, TestLeases.Boot)).State;

        Assert.Equal(3, state.AppliedSeq);
        Assert.Equal(three, state.Lease!.Jws);
        Assert.Equal(1, state.RefusedFor(RefusalReason.Replay));
    }
}
