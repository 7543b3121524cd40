using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Lien.Protocol;

/// <summary>
/// Enrollment's proof of possession (docs/PROTOCOL.md §1): the device signs <see cref="EnrollRequest.SigningInput"/> with
/// its fresh P-256 key, and the server checks that signature against the key sent beside it. Verified, it carries the key
/// (<see cref="PublicKey"/>, DER SubjectPublicKeyInfo); refused, the request field at fault and why.
/// </summary>
public sealed record EnrollmentProof(byte[]? PublicKey, string? Field, string? Problem)
{
    // id-ecPublicKey on prime256v1 (secp256r1, P-256). Other 256-bit curves (brainpoolP256r1, secp256k1) have the same
    // key size but cannot take the code secret, which is sealed with P-256 ECDH.
    private const string P256 = "1.2.840.10045.3.1.7";

    /// <summary>True when the signature verifies with a P-256 key.</summary>
    public bool Verified => PublicKey is not null;

    /// <summary>
    /// The enrollment request for <paramref name="imeis"/>, signed with <paramref name="key"/> at <paramref name="signedAt"/>
    /// (unix seconds) over the server's <paramref name="challenge"/> and the device's <paramref name="nonce"/>, carrying
    /// the key's <paramref name="attestation"/> chain and the provisioning <paramref name="enrollmentToken"/> when it has them.
    /// </summary>
    public static EnrollRequest Sign(IReadOnlyList<string> imeis, ECDsa key, long signedAt, string nonce, string challenge,
        IReadOnlyList<string>? attestation = null, string? enrollmentToken = null)
    {
        var publicKey = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
        var signature = key.SignData(Encoding.UTF8.GetBytes(EnrollRequest.SigningInput(imeis, publicKey, signedAt, nonce, challenge, enrollmentToken)),
            HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new EnrollRequest(imeis, publicKey, signedAt, nonce, challenge, Base64Url.EncodeToString(signature), attestation, enrollmentToken);
    }

    /// <summary>A fresh device nonce for an enrollment: 16 random bytes, base64url.</summary>
    public static string NewNonce() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    /// <summary>
    /// Checks that <paramref name="request"/>'s signature verifies with its public key over the signing input. Checks
    /// neither the IMEIs' form nor how old <see cref="EnrollRequest.SignedAt"/> is: both belong to the caller.
    /// </summary>
    public static EnrollmentProof Verify(EnrollRequest request)
    {
        using var key = ECDsa.Create();
        byte[] spki;
        try
        {
            spki = Convert.FromBase64String(request.PublicKey ?? "");
            key.ImportSubjectPublicKeyInfo(spki, out var read);
            if (read != spki.Length) throw new CryptographicException("Bytes follow the SubjectPublicKeyInfo.");
            if (key.ExportParameters(false).Curve.Oid?.Value != P256) return Refused("publicKey", "publicKey must be a P-256 key.");
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return Refused("publicKey", "publicKey must be a base64 SubjectPublicKeyInfo of a P-256 key.");
        }
        var signingInput = Encoding.UTF8.GetBytes(EnrollRequest.SigningInput(request.Imeis ?? [], request.PublicKey!, request.SignedAt,
            request.Nonce ?? "", request.Challenge ?? "", request.EnrollmentToken));
        return Base64Url.IsValid(request.Signature ?? "")
               && key.VerifyData(signingInput, Base64Url.DecodeFromChars(request.Signature), HashAlgorithmName.SHA256,
                   DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
            ? new EnrollmentProof(spki, null, null)
            : Refused("signature", "signature does not verify with publicKey over the enrollment signing input.");
    }

    private static EnrollmentProof Refused(string field, string problem) => new(null, field, problem);
}
