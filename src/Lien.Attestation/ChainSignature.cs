using System.Security.Cryptography;

namespace Lien.Attestation;

/// <summary>Checks one certificate's signature with its issuer's key: RSA PKCS#1 v1.5 and ECDSA with SHA-2, ML-DSA where the platform has it.</summary>
internal static class ChainSignature
{
    private const string EcPublicKey = "1.2.840.10045.2.1";
    private const string RsaPublicKey = "1.2.840.113549.1.1.1";

    // Keys of shared issuers (Google's CAs, factory intermediates), imported once per thread: importing a P-384 key
    // costs about what a verification does (OpenSSL checks the point), and every phone's chain repeats them.
    // Per thread because .NET does not promise that one key object may verify on several threads at once.
    private const int KeyCacheLimit = 64;
    [ThreadStatic] private static Dictionary<string, AsymmetricAlgorithm>? sharedKeys;

    /// <summary>Checks the signature; <paramref name="sharedIssuer"/> lets the issuer's imported key be reused.</summary>
    public static (AttestationFailure Failure, string Message) Check(AttestationCertificate certificate, AttestationCertificate issuer, bool sharedIssuer)
    {
        var algorithm = certificate.SignatureAlgorithm;
        switch (algorithm)
        {
            case "1.2.840.10045.4.3.2": return Ecdsa(certificate, issuer, sharedIssuer, HashAlgorithmName.SHA256);
            case "1.2.840.10045.4.3.3": return Ecdsa(certificate, issuer, sharedIssuer, HashAlgorithmName.SHA384);
            case "1.2.840.10045.4.3.4": return Ecdsa(certificate, issuer, sharedIssuer, HashAlgorithmName.SHA512);
            case "1.2.840.113549.1.1.11": return Rsa(certificate, issuer, sharedIssuer, HashAlgorithmName.SHA256);
            case "1.2.840.113549.1.1.12": return Rsa(certificate, issuer, sharedIssuer, HashAlgorithmName.SHA384);
            case "1.2.840.113549.1.1.13": return Rsa(certificate, issuer, sharedIssuer, HashAlgorithmName.SHA512);
            case "2.16.840.1.101.3.4.3.17" or "2.16.840.1.101.3.4.3.18" or "2.16.840.1.101.3.4.3.19":
                return MlDsaSignature(certificate, issuer);
            default:
                return (AttestationFailure.UnsupportedAlgorithm, $"unsupported signature algorithm {algorithm}");
        }
    }

    private static (AttestationFailure, string) Ecdsa(AttestationCertificate certificate, AttestationCertificate issuer, bool sharedIssuer, HashAlgorithmName hash) =>
        Classic(certificate, issuer, EcPublicKey, "EC", () => WithKey(issuer, sharedIssuer, ImportEc,
            key => ((ECDsa)key).VerifyData(certificate.ToBeSigned.Span, certificate.Signature, hash, DSASignatureFormat.Rfc3279DerSequence)));

    private static (AttestationFailure, string) Rsa(AttestationCertificate certificate, AttestationCertificate issuer, bool sharedIssuer, HashAlgorithmName hash) =>
        Classic(certificate, issuer, RsaPublicKey, "RSA", () => WithKey(issuer, sharedIssuer, ImportRsa,
            key => ((RSA)key).VerifyData(certificate.ToBeSigned.Span, certificate.Signature, hash, RSASignaturePadding.Pkcs1)));

    private static ECDsa ImportEc(byte[] spki)
    {
        var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(spki, out _);
        return key;
    }

    private static RSA ImportRsa(byte[] spki)
    {
        var key = RSA.Create();
        key.ImportSubjectPublicKeyInfo(spki, out _);
        return key;
    }

    private static bool WithKey(AttestationCertificate issuer, bool sharedIssuer, Func<byte[], AsymmetricAlgorithm> import, Func<AsymmetricAlgorithm, bool> verify)
    {
        if (!sharedIssuer)
        {
            using var key = import(issuer.SubjectPublicKeyInfo);
            return verify(key);
        }
        var keys = sharedKeys ??= new Dictionary<string, AsymmetricAlgorithm>(StringComparer.Ordinal);
        var id = Convert.ToBase64String(issuer.SubjectPublicKeyInfo);
        if (!keys.TryGetValue(id, out var cached))
        {
            if (keys.Count >= KeyCacheLimit)
            {
                foreach (var old in keys.Values) old.Dispose();
                keys.Clear();
            }
            cached = import(issuer.SubjectPublicKeyInfo);
            keys[id] = cached;
        }
        return verify(cached);
    }

    private static (AttestationFailure, string) Classic(AttestationCertificate certificate, AttestationCertificate issuer, string keyAlgorithm, string keyName, Func<bool> verify)
    {
        if (issuer.PublicKeyAlgorithm != keyAlgorithm)
            return (AttestationFailure.BadSignature, $"signature algorithm {certificate.SignatureAlgorithm} needs an {keyName} issuer key, and the issuer's is {issuer.PublicKeyAlgorithm}");
        return verify() ? (AttestationFailure.None, "") : (AttestationFailure.BadSignature, "the signature does not verify with the issuer's key");
    }

    private static (AttestationFailure, string) MlDsaSignature(AttestationCertificate certificate, AttestationCertificate issuer)
    {
        // OpenSSL before 3.5 has no ML-DSA: such a chain is refused, never passed unchecked.
        if (!MLDsa.IsSupported)
            return (AttestationFailure.UnsupportedAlgorithm, "unsupported algorithm (ML-DSA): this platform's cryptography cannot check ML-DSA signatures, so the chain is refused");
        if (issuer.PublicKeyAlgorithm != certificate.SignatureAlgorithm)
            return (AttestationFailure.BadSignature, "an ML-DSA signature by an issuer whose key is not of that ML-DSA parameter set");
#pragma warning disable SYSLIB5006 // .NET 10 marks the ML-DSA import as experimental; the check it makes is what we need.
        using var key = MLDsa.ImportSubjectPublicKeyInfo(issuer.SubjectPublicKeyInfo);
#pragma warning restore SYSLIB5006
        return key.VerifyData(certificate.ToBeSigned.Span, certificate.Signature)
            ? (AttestationFailure.None, "")
            : (AttestationFailure.BadSignature, "the ML-DSA signature does not verify with the issuer's key");
    }
}
