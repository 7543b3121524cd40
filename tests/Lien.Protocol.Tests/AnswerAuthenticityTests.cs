using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Lien.Protocol.Tests;

/// <summary>Key-set statements, detached answer signatures and the sealed answer key: the shared code a port copies.</summary>
public sealed class AnswerAuthenticityTests
{
    private static readonly ECDsa K1 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly ECDsa K2 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly Guid Lender = Guid.NewGuid();

    private static KeySetClaims Claims(long version = 1, string[]? revoked = null, params (string Kid, ECDsa Key)[] keys) =>
        new(KeySetClaims.Type, Lender, version, 1_772_366_400, [.. keys.Select(k => TrustKey.From(k.Kid, k.Key))], revoked ?? []);

    [Fact]
    public void KeySet_SignedByEveryListedKey_Verifies()
    {
        var statement = KeySetStatement.Sign(Claims(2, ["k0"], ("k1", K1), ("k2", K2)), [("k1", K1), ("k2", K2)]);
        var claims = statement.Verify(Lender, out var problem);
        Assert.True(claims is not null, problem);
        Assert.Equal(2, claims.Version);
        Assert.Equal(["k1", "k2"], claims.Keys.Select(k => k.Kid));
        Assert.Equal(["k0"], claims.Revoked);
        // The signatures are over protected.payload as RFC 7515 §5.1 says: each verifies as a compact JWS.
        var compact = $"{statement.Signatures[1].Protected}.{statement.Payload}.{statement.Signatures[1].Signature}";
        Assert.True(Jws.Verify(compact, kid => kid == "k2" ? K2 : null, KeySetClaims.Type).Valid);
    }

    public static TheoryData<string> Broken =>
        ["a listed key did not sign", "a signature by no listed key", "a signature that does not verify", "another lender", "a key both listed and revoked",
            "a payload byte changed", "a lease-typed signature", "no keys", "signed twice by one key"];

    [Theory]
    [MemberData(nameof(Broken))]
    public void KeySet_Broken_Refused(string what)
    {
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var good = KeySetStatement.Sign(Claims(2, null, ("k1", K1), ("k2", K2)), [("k1", K1), ("k2", K2)]);
        var payload = JsonSerializer.SerializeToUtf8Bytes(Claims(2, null, ("k1", K1)), LeaseClaims.Json);
        var statement = what switch
        {
            "a listed key did not sign" => good with { Signatures = [good.Signatures[0]] },
            "a signature by no listed key" => KeySetStatement.Sign(Claims(2, null, ("k1", K1)), [("k1", K1), ("k9", stranger)]),
            "a signature that does not verify" => good with { Signatures = [good.Signatures[0], good.Signatures[1] with { Signature = good.Signatures[0].Signature }] },
            "another lender" => KeySetStatement.Sign(Claims(2, null, ("k1", K1)) with { LenderId = Guid.NewGuid() }, [("k1", K1)]),
            "a key both listed and revoked" => KeySetStatement.Sign(Claims(2, ["k1"], ("k1", K1)), [("k1", K1)]),
            "a payload byte changed" => good with { Payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
                Encoding.UTF8.GetString(Base64Url.DecodeFromChars(good.Payload)).Replace("\"version\":2", "\"version\":3", StringComparison.Ordinal))) },
            "a lease-typed signature" => new KeySetStatement(Base64Url.EncodeToString(payload),
                [new KeySetSignature(Jws.Sign(payload, K1, "k1", LeaseClaims.MediaType).Split('.')[0], Jws.Sign(payload, K1, "k1", LeaseClaims.MediaType).Split('.')[2])]),
            "no keys" => KeySetStatement.Sign(Claims(2), []),
            "signed twice by one key" => KeySetStatement.Sign(Claims(2, null, ("k1", K1)), [("k1", K1), ("k1", K1)]),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };
        Assert.Null(statement.Verify(Lender, out var problem));
        Assert.False(string.IsNullOrEmpty(problem));
    }

    [Fact]
    public void KeySet_RevokedKeysLastSignature_CheckedWithTheCallersCopyOrPassedOver()
    {
        var revocation = KeySetStatement.Sign(Claims(3, ["k1"], ("k2", K2)), [("k2", K2), ("k1", K1)]);
        Assert.NotNull(revocation.Verify(Lender, out _)); // not known to this verifier: passed over
        Assert.NotNull(revocation.Verify(Lender, [TrustKey.From("k1", K1)], out var signers, out _));
        Assert.Equal(["k2", "k1"], signers);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.Null(revocation.Verify(Lender, [TrustKey.From("k1", other)], out _, out _)); // known, and it does not verify
    }

    [Fact]
    public void AnswerSignature_Es256_DetachedOverTheExactBody()
    {
        var body = Encoding.UTF8.GetBytes("""{"seq":1,"nonce":"abc"}""");
        var header = AnswerSignature.SignEs256(body, K1, "k1");
        Assert.Matches("^[A-Za-z0-9_-]+\\.\\.[A-Za-z0-9_-]+$", header);
        Assert.Contains("\"typ\":\"lien-answer\"", Encoding.UTF8.GetString(Base64Url.DecodeFromChars(header.Split('.')[0])), StringComparison.Ordinal);
        Assert.Null(AnswerSignature.VerifyEs256(header, body, kid => kid == "k1" ? K1 : null));
        Assert.NotNull(AnswerSignature.VerifyEs256(header, [.. body, (byte)' '], kid => kid == "k1" ? K1 : null));
        Assert.NotNull(AnswerSignature.VerifyEs256(header, body, kid => kid == "k1" ? K2 : null));
        Assert.NotNull(AnswerSignature.VerifyEs256(null, body, kid => K1));
        Assert.NotNull(AnswerSignature.VerifyEs256(header.Replace("..", ".x.", StringComparison.Ordinal), body, kid => K1));
        // An ES256 answer signature is no lease: its typ is lien-answer.
        var attached = $"{header.Split('.')[0]}.{Base64Url.EncodeToString(body)}.{header.Split('.')[2]}";
        Assert.False(Jws.Verify(attached, _ => K1, LeaseClaims.MediaType).Valid);
    }

    [Fact]
    public void AnswerSignature_Hs256_DetachedUnderTheAnswerKey()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var body = Encoding.UTF8.GetBytes("""{"seq":4,"serverTime":"2026-03-01T09:00:00+00:00"}""");
        var header = AnswerSignature.SignHs256(body, key);
        Assert.Equal("""{"alg":"HS256","kid":"answer","typ":"lien-answer"}""", Encoding.UTF8.GetString(Base64Url.DecodeFromChars(header.Split('.')[0])));
        // The MAC is HMAC-SHA256 over ASCII(protected "." BASE64URL(body)), RFC 7515 §5.1 and Appendix F.
        var expected = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes($"{header.Split('.')[0]}.{Base64Url.EncodeToString(body)}"));
        Assert.Equal(Base64Url.EncodeToString(expected), header.Split('.')[2]);
        Assert.Null(AnswerSignature.VerifyHs256(header, body, key));
        Assert.Equal("bad signature", AnswerSignature.VerifyHs256(header, [.. body[..^1], (byte)']'], key));
        Assert.Equal("bad signature", AnswerSignature.VerifyHs256(header, body, RandomNumberGenerator.GetBytes(32)));
        var noneHeader = Base64Url.EncodeToString("""{"alg":"none","kid":"answer","typ":"lien-answer"}"""u8);
        Assert.NotNull(AnswerSignature.VerifyHs256($"{noneHeader}..{header.Split('.')[2]}", body, key));
    }

    [Theory]
    [InlineData(0, 32)]
    [InlineData(1, 32)]
    [InlineData(767, 32)]
    [InlineData(768, 16)]
    [InlineData(769, 64)]
    [InlineData(5000, 65)]
    [InlineData(2311, 200)]
    public void AnswerSignature_Hs256_IsHmacSha256OfTheSigningInput(int bodyLength, int keyLength)
    {
        var key = RandomNumberGenerator.GetBytes(keyLength);
        var body = RandomNumberGenerator.GetBytes(bodyLength);
        var header = AnswerSignature.SignHs256(body, key);
        var expected = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes($"{header.Split('.')[0]}.{Base64Url.EncodeToString(body)}"));
        Assert.Equal(Base64Url.EncodeToString(expected), header.Split('.')[2]);
        Assert.Null(AnswerSignature.VerifyHs256(header, body, key));
    }

    [Fact]
    public void SealedAnswerKey_OpensOnlyWithTheDeviceKey_AndIsNoCodeSecret()
    {
        using var device = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var id = Guid.NewGuid();
        var key = RandomNumberGenerator.GetBytes(32);
        var sealedKey = SealedAnswerKey.Seal(key, device.ExportSubjectPublicKeyInfo(), id);
        Assert.Equal(key, sealedKey.Open(device, id));
        Assert.ThrowsAny<CryptographicException>(() => sealedKey.Open(device, Guid.NewGuid()));
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.ThrowsAny<CryptographicException>(() => sealedKey.Open(other, id));
        // A distinct HKDF info: the same sealed bytes read as a code secret do not open.
        var asCodeSecret = new SealedCodeSecret(sealedKey.EphemeralPublicKey, sealedKey.Nonce, sealedKey.Ciphertext);
        Assert.ThrowsAny<CryptographicException>(() => asCodeSecret.Open(device, id));
    }
}
