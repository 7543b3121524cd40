using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Lien.Attestation;

/// <summary>What a test attestation authority is asked to attest about a key, as a phone's Keystore would.</summary>
public sealed record AttestationRequest(byte[] SubjectPublicKeyInfo, byte[] Challenge)
{
    public SecurityLevel SecurityLevel { get; init; } = SecurityLevel.TrustedEnvironment;
    public VerifiedBootState VerifiedBootState { get; init; } = VerifiedBootState.Verified;
    public bool DeviceLocked { get; init; } = true;

    /// <summary>The IMEI the hardware attests (attestationIdImei); null when the phone does not attest its identifiers.</summary>
    public string? Imei { get; init; }

    public string? SecondImei { get; init; }
    public string Brand { get; init; } = "lien";
    public string Device { get; init; } = "testphone";
    public string Product { get; init; } = "testphone";
    public string Manufacturer { get; init; } = "Lien";
    public string Model { get; init; } = "Lien Test Phone";
    public string PackageName { get; init; } = "dev.lien.agent";

    /// <summary>How the key came to be; only a generated key passes the enrollment policy.</summary>
    public KeyOrigin Origin { get; init; } = KeyOrigin.Generated;

    /// <summary>The key's creationDateTime; the authority's clock when null.</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>A phone's request: its key, the server's challenge, and its one or two IMEIs attested (none: no device-ID attestation).</summary>
    public static AttestationRequest ForPhone(byte[] subjectPublicKeyInfo, byte[] challenge, IReadOnlyList<string> imeis) =>
        new(subjectPublicKeyInfo, challenge) { Imei = imeis.FirstOrDefault(), SecondImei = imeis.Skip(1).FirstOrDefault() };
}

/// <summary>
/// A local attestation authority for tests, the simulator and the reference agent: a root, a factory-style
/// intermediate and an attestation key, all made here, issuing leaves in the exact Android format (the KeyDescription
/// extension in DER, leaf first, root last). Nothing trusts it unless configured with <see cref="RootPublicKey"/>.
/// </summary>
public sealed class AttestationAuthority : IDisposable
{
    private static readonly DateTimeOffset LeafNotBefore = DateTimeOffset.UnixEpoch;
    private static readonly DateTimeOffset LeafNotAfter = new(2048, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly ECDsa attestationKey;
    private readonly X500DistinguishedName attestationName;
    private readonly byte[][] issuers; // attestation certificate, intermediate, root
    private readonly TimeProvider time;

    private AttestationAuthority(ECDsa attestationKey, byte[][] issuers, TimeProvider time)
    {
        this.attestationKey = attestationKey;
        this.issuers = issuers;
        this.time = time;
        using var attestation = X509CertificateLoader.LoadCertificate(issuers[0]);
        attestationName = attestation.SubjectName;
        using var root = X509CertificateLoader.LoadCertificate(issuers[^1]);
        RootPublicKey = root.PublicKey.ExportSubjectPublicKeyInfo();
        using var intermediate = X509CertificateLoader.LoadCertificate(issuers[1]);
        IntermediateSerialHex = StatusListSerial.Normalize(intermediate.SerialNumber);
        AttestationSerialHex = StatusListSerial.Normalize(attestation.SerialNumber);
    }

    /// <summary>The root's SubjectPublicKeyInfo: what a verifier must be configured with to trust this authority.</summary>
    public byte[] RootPublicKey { get; }

    /// <summary>Serial numbers as the status list writes them, to revoke the intermediate or the attestation certificate in tests.</summary>
    public string IntermediateSerialHex { get; }

    public string AttestationSerialHex { get; }

    /// <summary>Anchors that trust this authority and nothing else.</summary>
    public AttestationTrustAnchors Anchors => AttestationTrustAnchors.Only([RootPublicKey]);

    /// <summary>A fresh authority: P-384 root, P-256 intermediate and attestation key, valid from a day before now for 20 years.</summary>
    public static AttestationAuthority Create(TimeProvider time, string name = "Lien Test Attestation")
    {
        var now = time.GetUtcNow();
        var notBefore = now.AddDays(-1);
        var notAfter = now.AddYears(20);
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var attestationKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var rootRequest = new CertificateRequest($"CN={name} Root, O=Lien", rootKey, HashAlgorithmName.SHA384);
        AddCaExtensions(rootRequest);
        using var root = rootRequest.CreateSelfSigned(notBefore, notAfter);

        // Named as factory-provisioned intermediates are (serialNumber + title TEE), so the verifier treats the chain as
        // factory-provisioned: it keeps verifying after these certificates expire, as a phone's factory chain does.
        var intermediateRequest = new CertificateRequest(FactoryName(), intermediateKey, HashAlgorithmName.SHA384);
        AddCaExtensions(intermediateRequest);
        using var intermediate = intermediateRequest.Create(root, notBefore, notAfter, RandomSerial());
        using var intermediateWithKey = intermediate.CopyWithPrivateKey(intermediateKey);

        var attestationRequest = new CertificateRequest(FactoryName(), attestationKey, HashAlgorithmName.SHA256);
        AddCaExtensions(attestationRequest);
        using var attestation = attestationRequest.Create(intermediateWithKey, notBefore, notAfter, RandomSerial());
        return new AttestationAuthority(attestationKey, [attestation.RawData, intermediate.RawData, root.RawData], time);
    }

    /// <summary>The authority as PEM (its certificates and the attestation key), to hand to another process.</summary>
    public string ExportPem()
    {
        var text = new StringBuilder();
        text.Append(PemEncoding.Write("PRIVATE KEY", attestationKey.ExportPkcs8PrivateKey())).Append('\n');
        foreach (var certificate in issuers) text.Append(PemEncoding.Write("CERTIFICATE", certificate)).Append('\n');
        return text.ToString();
    }

    /// <summary>An authority written by <see cref="ExportPem"/>.</summary>
    public static AttestationAuthority ImportPem(string pem, TimeProvider time)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            var certificates = new X509Certificate2Collection();
            certificates.ImportFromPem(pem);
            if (certificates.Count != 3) throw new ArgumentException("an attestation authority PEM holds 3 certificates: attestation, intermediate, root");
            return new AttestationAuthority(key, [.. certificates.Select(c => c.RawData)], time);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Issues the chain a phone would send for <paramref name="request"/>'s key: DER certificates, leaf first.</summary>
    public IReadOnlyList<byte[]> Issue(AttestationRequest request)
    {
        var description = Describe(request);
        var leafRequest = new CertificateRequest(
            new X500DistinguishedName("CN=Android Keystore Key"),
            PublicKey.CreateFromSubjectPublicKeyInfo(request.SubjectPublicKeyInfo, out _),
            HashAlgorithmName.SHA256);
        leafRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        leafRequest.CertificateExtensions.Add(new X509Extension(KeyDescription.Oid, KeyDescriptionDer.Encode(description), critical: false));
        using var leaf = leafRequest.Create(attestationName, X509SignatureGenerator.CreateForECDsa(attestationKey), LeafNotBefore, LeafNotAfter, [1]);
        return [leaf.RawData, .. issuers];
    }

    /// <summary>The KeyDescription a Keystore would write for <paramref name="request"/> (what <see cref="Issue"/> puts in the leaf).</summary>
    public KeyDescription Describe(AttestationRequest request)
    {
        var created = (request.CreatedAt ?? time.GetUtcNow()).ToUnixTimeMilliseconds();
        var software = new AuthorizationList
        {
            CreationDateTime = created,
            AttestationApplicationId = new AttestationApplicationId(
                [new AttestationPackageInfo(request.PackageName, 1)],
                [SHA256.HashData(Encoding.UTF8.GetBytes(request.PackageName))]),
        };
        var hardware = new AuthorizationList
        {
            Purposes = [2],
            Algorithm = 3,
            KeySize = 256,
            Digests = [4],
            EcCurve = 1,
            NoAuthRequired = true,
            Origin = request.Origin,
            RootOfTrust = new RootOfTrust(
                SHA256.HashData(RootPublicKey), request.DeviceLocked, request.VerifiedBootState,
                SHA256.HashData(Encoding.UTF8.GetBytes($"{request.Brand}/{request.Device}"))),
            OsVersion = 150000,
            OsPatchLevel = 202509,
            AttestationIdBrand = request.Brand,
            AttestationIdDevice = request.Device,
            AttestationIdProduct = request.Product,
            AttestationIdImei = request.Imei,
            AttestationIdManufacturer = request.Manufacturer,
            AttestationIdModel = request.Model,
            VendorPatchLevel = 20250905,
            BootPatchLevel = 20250905,
            AttestationIdSecondImei = request.SecondImei,
        };
        return new KeyDescription(300, request.SecurityLevel, 300, request.SecurityLevel, request.Challenge, [], software, hardware);
    }

    public void Dispose() => attestationKey.Dispose();

    private static X500DistinguishedName FactoryName()
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.Add("2.5.4.5", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), System.Formats.Asn1.UniversalTagNumber.PrintableString);
        builder.Add("2.5.4.12", "TEE");
        return builder.Build();
    }

    private static void AddCaExtensions(CertificateRequest request)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
    }

    private static byte[] RandomSerial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive INTEGER
        serial[0] |= 0x01; // with no leading zero byte
        return serial;
    }
}
