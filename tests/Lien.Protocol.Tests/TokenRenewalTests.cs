using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Lien.Protocol.Tests;

public class TokenRenewalTests
{
    private static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly byte[] PublicKey = Key.ExportSubjectPublicKeyInfo();
    private static readonly Guid Device = Guid.Parse("0195f0a0-1b2c-7d3e-8f40-5a6b7c8d9e0f");
    private const long SignedAt = 1772366400;

    [Fact]
    public void SigningInput_LinesInProtocolOrder_DeviceIdHyphenated()
    {
        Assert.Equal("lien-renew-v1\n0195f0a0-1b2c-7d3e-8f40-5a6b7c8d9e0f\n1772366400", TokenRenewal.SigningInput(Device, SignedAt));
    }

    [Fact]
    public void Verify_SignedByTheKey_True_AnotherKeyDeviceOrTime_False()
    {
        var request = TokenRenewal.Sign(Device, Key, SignedAt);
        Assert.True(TokenRenewal.Verify(request, PublicKey));
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.False(TokenRenewal.Verify(request, other.ExportSubjectPublicKeyInfo()));
        Assert.False(TokenRenewal.Verify(request with { DeviceId = Guid.NewGuid() }, PublicKey));
        Assert.False(TokenRenewal.Verify(request with { SignedAt = SignedAt + 1 }, PublicKey));
    }

    [Fact]
    public void Verify_SignatureWrittenOutFromTheDocument_True()
    {
        // A port signs the document's input itself: ES256, P1363 (r||s, 64 bytes), base64url without padding.
        var signature = Key.SignData(Encoding.UTF8.GetBytes($"lien-renew-v1\n{Device:D}\n{SignedAt}"), HashAlgorithmName.SHA256,
            DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        Assert.True(TokenRenewal.Verify(new RenewRequest(Device, SignedAt, Base64Url.EncodeToString(signature)), PublicKey));
        var der = Key.SignData(Encoding.UTF8.GetBytes($"lien-renew-v1\n{Device:D}\n{SignedAt}"), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        Assert.False(TokenRenewal.Verify(new RenewRequest(Device, SignedAt, Base64Url.EncodeToString(der)), PublicKey));
    }

    [Theory]
    [InlineData("")]
    [InlineData("AAAA")]
    [InlineData("not base64url!")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")]
    public void Verify_MalformedSignature_FalseNotAThrow(string signature)
    {
        Assert.False(TokenRenewal.Verify(new RenewRequest(Device, SignedAt, signature), PublicKey));
        Assert.False(TokenRenewal.Verify(TokenRenewal.Sign(Device, Key, SignedAt), [1, 2, 3]));
    }
}
