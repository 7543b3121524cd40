using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Lien.Protocol.Tests;

public class EnrollmentProofTests
{
    private static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly string[] Imeis = ["356938035643809", "356938035643817"];
    private const long SignedAt = 1772366400;
    private const string Nonce = "bm9uY2Utb2YtMTYtYnl0ZXM";
    private const string Challenge = "AQAAAABpq1xAc2l4dGVlbi1yYW5kb20tYnl0ZXMtYW5kLWEtbWFj";

    private static EnrollRequest Signed(string? token = null) => EnrollmentProof.Sign(Imeis, Key, SignedAt, Nonce, Challenge, enrollmentToken: token);

    private static EnrollRequest SignedWith(ECCurve curve)
    {
        using var key = ECDsa.Create(curve);
        return EnrollmentProof.Sign(Imeis, key, SignedAt, Nonce, Challenge);
    }

    [Fact]
    public void SigningInput_TwoImeis_LinesInProtocolOrder()
    {
        Assert.Equal("lien-enroll-v2\n356938035643809,356938035643817\nMFkw\n1772366400\nN0\nC0\nT0", EnrollRequest.SigningInput(Imeis, "MFkw", SignedAt, "N0", "C0", "T0"));
    }

    [Fact]
    public void SigningInput_NoEnrollmentToken_EndsWithAnEmptyLine()
    {
        Assert.Equal("lien-enroll-v2\n356938035643809\nMFkw\n1772366400\nN0\nC0\n", EnrollRequest.SigningInput([Imeis[0]], "MFkw", SignedAt, "N0", "C0", null));
    }

    [Fact]
    public void Verify_SignedWithEnrollmentToken_Verifies()
    {
        Assert.True(EnrollmentProof.Verify(Signed("dG9rZW4tb2YtMTYtYnl0ZXM")).Verified);
    }

    [Fact]
    public void Verify_SignedRequest_ReturnsTheKeyItCarries()
    {
        var request = Signed();
        var proof = EnrollmentProof.Verify(request);
        Assert.True(proof.Verified, proof.Problem);
        Assert.Equal(Key.ExportSubjectPublicKeyInfo(), proof.PublicKey);
        Assert.Null(proof.Field);
        Assert.Null(proof.Problem);
        Assert.Equal(Imeis, request.Imeis);
        Assert.Equal(SignedAt, request.SignedAt);
        Assert.Equal(64, Base64Url.DecodeFromChars(request.Signature).Length);
    }

    [Theory]
    [InlineData("P-384 key", "publicKey", "publicKey must be a P-256 key.")]
    [InlineData("brainpoolP256r1 key, also 256 bits", "publicKey", "publicKey must be a P-256 key.")]
    [InlineData("secp256k1 key, also 256 bits", "publicKey", "publicKey must be a P-256 key.")]
    [InlineData("public key not base64", "publicKey", "publicKey must be a base64 SubjectPublicKeyInfo of a P-256 key.")]
    [InlineData("public key base64 of no key", "publicKey", "publicKey must be a base64 SubjectPublicKeyInfo of a P-256 key.")]
    [InlineData("public key an RSA key", "publicKey", "publicKey must be a base64 SubjectPublicKeyInfo of a P-256 key.")]
    [InlineData("public key with bytes after it", "publicKey", "publicKey must be a base64 SubjectPublicKeyInfo of a P-256 key.")]
    [InlineData("public key missing", "publicKey", "publicKey must be a base64 SubjectPublicKeyInfo of a P-256 key.")]
    [InlineData("another key than the signer's", "signature", "signature does not verify with publicKey over the enrollment signing input.")]
    [InlineData("IMEIs changed", "signature", "signature does not verify with publicKey over the enrollment signing input.")]
    [InlineData("IMEIs reordered", "signature", "signature does not verify with publicKey over the enrollment signing input.")]
    [InlineData("IMEIs missing", "signature", "signature does not verify with publicKey over the enrollment signing input.")]
    [InlineData("signedAt changed", "signature", "signature does not verify with publicKey over the enrollment signing input.")]
    [InlineData("nonce changed", "signature", "signature does not verify with publicKey over the enrollment signing input.")]
    [InlineData("challenge changed", "signature", "signature does not verify with publicKey over the enrollment signing input.")]
    [InlineData("enrollment token added", "signature", "signature does not verify with publicKey over the enrollment signing input.")]
    [InlineData("signature one bit off", "signature", "signature does not verify with publicKey over the enrollment signing input.")]
    [InlineData("signature too short", "signature", "signature does not verify with publicKey over the enrollment signing input.")]
    [InlineData("signature DER, not P1363", "signature", "signature does not verify with publicKey over the enrollment signing input.")]
    [InlineData("signature standard base64, not base64url", "signature", "signature does not verify with publicKey over the enrollment signing input.")]
    [InlineData("signature missing", "signature", "signature does not verify with publicKey over the enrollment signing input.")]
    public void Verify_BrokenRequest_NamesTheFieldAndWhy(string broken, string field, string problem)
    {
        var proof = EnrollmentProof.Verify(Break(broken));
        Assert.False(proof.Verified);
        Assert.Null(proof.PublicKey);
        Assert.Equal(field, proof.Field);
        Assert.Equal(problem, proof.Problem);
    }

    private static EnrollRequest Break(string broken)
    {
        var r = Signed();
        var signature = Base64Url.DecodeFromChars(r.Signature);
        return broken switch
        {
            "P-384 key" => SignedWith(ECCurve.NamedCurves.nistP384),
            "brainpoolP256r1 key, also 256 bits" => SignedWith(ECCurve.NamedCurves.brainpoolP256r1),
            "secp256k1 key, also 256 bits" => SignedWith(ECCurve.CreateFromFriendlyName("secp256k1")),
            "public key not base64" => r with { PublicKey = "not base64!" },
            "public key base64 of no key" => r with { PublicKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(91)) },
            "public key an RSA key" => r with { PublicKey = RsaKey() },
            "public key with bytes after it" => SignedOver(Convert.ToBase64String([.. Key.ExportSubjectPublicKeyInfo(), 0])),
            "public key missing" => r with { PublicKey = null! },
            "another key than the signer's" => r with { PublicKey = SignedWith(ECCurve.NamedCurves.nistP256).PublicKey },
            "IMEIs changed" => r with { Imeis = [Imeis[0], "490154203237518"] },
            "IMEIs reordered" => r with { Imeis = [Imeis[1], Imeis[0]] },
            "IMEIs missing" => r with { Imeis = null! },
            "signedAt changed" => r with { SignedAt = SignedAt + 1 },
            "nonce changed" => r with { Nonce = "bm9uY2Utb2YtMTYtYnl0ZXN" },
            "challenge changed" => r with { Challenge = Challenge[..^1] + "A" },
            "enrollment token added" => r with { EnrollmentToken = "dG9rZW4tb2YtMTYtYnl0ZXM" },
            "signature one bit off" => r with { Signature = Base64Url.EncodeToString([(byte)(signature[0] ^ 1), .. signature[1..]]) },
            "signature too short" => r with { Signature = Base64Url.EncodeToString(signature[..63]) },
            "signature DER, not P1363" => SignedOver(r.PublicKey, DSASignatureFormat.Rfc3279DerSequence),
            "signature standard base64, not base64url" => r with { Signature = StandardBase64(r) },
            "signature missing" => r with { Signature = null! },
            _ => throw new ArgumentException(broken, nameof(broken)),
        };
    }

    // Signed by Key over whatever publicKey says, so only what is checked (the key's form, the signature's format) is at fault.
    private static EnrollRequest SignedOver(string publicKey, DSASignatureFormat format = DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
    {
        var signature = Key.SignData(Encoding.UTF8.GetBytes(EnrollRequest.SigningInput(Imeis, publicKey, SignedAt, Nonce, Challenge, null)),
            HashAlgorithmName.SHA256, format);
        return new EnrollRequest(Imeis, publicKey, SignedAt, Nonce, Challenge, Base64Url.EncodeToString(signature));
    }

    // A signature of the same input that the standard alphabet writes with '+' or '/' (about 3 in 4 are): base64url has
    // neither character. ECDSA signs with a fresh random nonce, so signing again gives another signature.
    private static string StandardBase64(EnrollRequest signed)
    {
        while (true)
        {
            var standard = Convert.ToBase64String(Base64Url.DecodeFromChars(EnrollmentProof.Sign(signed.Imeis, Key, signed.SignedAt, Nonce, Challenge).Signature));
            if (standard.Contains('+') || standard.Contains('/')) return standard;
        }
    }

    private static string RsaKey()
    {
        using var rsa = RSA.Create(2048);
        return Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
    }
}
