using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Lien.Protocol.Tests;

public class JwsTests
{
    private static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("""{"seq":7,"mode":"Locked"}""");

    private static JwsResult Verify(string jws) => Jws.Verify(jws, kid => kid == "k1" ? Key : null, LeaseClaims.MediaType);

    [Fact]
    public void Verify_SignedLease_ReturnsPayload()
    {
        var r = Verify(Jws.Sign(Payload, Key, "k1", LeaseClaims.MediaType));
        Assert.True(r.Valid, r.Reason);
        Assert.Equal(Payload, r.Payload);
        Assert.Equal("k1", r.Kid);
    }

    [Fact]
    public void Verify_AnyCharacterChanged_Refused()
    {
        var jws = Jws.Sign(Payload, Key, "k1", LeaseClaims.MediaType);
        for (var i = 0; i < jws.Length; i++)
        {
            var c = jws[i] == 'A' ? 'B' : 'A';
            var tampered = jws[..i] + c + jws[(i + 1)..];
            Assert.False(Verify(tampered).Valid, $"changed at {i}");
        }
    }

    [Theory]
    [InlineData("""{"alg":"none","kid":"k1","typ":"lien-lease+jwt"}""", "algorithm")]
    [InlineData("""{"alg":"HS256","kid":"k1","typ":"lien-lease+jwt"}""", "algorithm")]
    [InlineData("""{"alg":"ES256","kid":"k9","typ":"lien-lease+jwt"}""", "unknown signing key")]
    [InlineData("""{"alg":"ES256","typ":"lien-lease+jwt"}""", "no kid")]
    [InlineData("""{"alg":"ES256","kid":"k1","typ":"JWT"}""", "type")]
    public void Verify_WrongHeader_RefusedWithReason(string header, string reason)
    {
        var signingInput = $"{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header))}.{Base64Url.EncodeToString(Payload)}";
        var hmac = HMACSHA256.HashData(new byte[32], Encoding.ASCII.GetBytes(signingInput));
        var sig = Key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        foreach (var s in new[] { "", Base64Url.EncodeToString(hmac), Base64Url.EncodeToString(sig) })
        {
            var r = Verify($"{signingInput}.{s}");
            Assert.False(r.Valid);
            Assert.Contains(reason, r.Reason);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("a.b")]
    [InlineData("a.b.c.d")]
    [InlineData("!!.@@.##")]
    public void Verify_Malformed_Refused(string jws) => Assert.False(Verify(jws).Valid);

    [Fact]
    public void Verify_Truncated_Refused()
    {
        var jws = Jws.Sign(Payload, Key, "k1", LeaseClaims.MediaType);
        for (var n = 0; n < jws.Length; n += 7) Assert.False(Verify(jws[..n]).Valid);
    }

    [Fact]
    public void TrustKey_RoundTrip_VerifiesWithImportedKey()
    {
        var jwk = TrustKey.From("k1", Key);
        using var imported = jwk.ToECDsa();
        var jws = Jws.Sign(Payload, Key, "k1", LeaseClaims.MediaType);
        Assert.True(Jws.Verify(jws, _ => imported, LeaseClaims.MediaType).Valid);
    }
}
