using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;

namespace Lien.Attestation.Tests;

public class VerifierTests
{
    private const string Factory = "akita/sdk34/TEE_EC_NONE";
    private const string WithImei = "akita/sdk34/TEE_RSA_BASE+IMEI";
    private static readonly AttestationVerifier Google = new(AttestationTrustAnchors.Google);
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero));

    private static AttestationVerdict VerifyReal(string name, IReadOnlyList<byte[]>? chain = null, AttestationPolicy? policy = null, AttestationStatusList? list = null) =>
        Google.Verify(chain ?? AttestationFiles.Chain(name), policy ?? AttestationPolicy.ChainOnly, AttestationFiles.CreatedAt(name), list);

    // A phone's key, its enrollment challenge, and the chain the test authority issues for it.
    private sealed class Phone : IDisposable
    {
        public readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        public readonly byte[] Challenge = RandomNumberGenerator.GetBytes(32);
        public byte[] PublicKey => Key.ExportSubjectPublicKeyInfo();
        public AttestationRequest Request => new(PublicKey, Challenge) { Imei = "490154203237518", SecondImei = "356938035643809" };
        public AttestationPolicy Policy => new()
        {
            ExpectedChallenge = Challenge, ExpectedImeis = ["490154203237518", "356938035643809"], ExpectedPublicKey = PublicKey, RequireAttestedImei = true,
        };
        public void Dispose() => Key.Dispose();
    }

    [Fact]
    public void Verify_AuthorityChainMeetingEveryCheck_IsAcceptedWithItsRecord()
    {
        using var authority = AttestationAuthority.Create(Clock);
        using var phone = new Phone();
        var verdict = new AttestationVerifier(authority.Anchors).Verify(authority.Issue(phone.Request), phone.Policy, Clock.GetUtcNow(), AttestationStatusList.Empty);

        Assert.True(verdict.Verified, verdict.Message);
        Assert.Equal(AttestationFailure.None, verdict.Failure);
        Assert.Equal(phone.PublicKey, verdict.PublicKey);
        Assert.Equal(ProvisioningMethod.Factory, verdict.Provisioning);
        Assert.Equal(SecurityLevel.TrustedEnvironment, verdict.EffectiveSecurityLevel);
        Assert.Equal(["490154203237518", "356938035643809"], verdict.AttestedImeis);
        Assert.Null(AttestationConformance.FirstDifference(
            KeyDescriptionJson.ToJson(authority.Describe(phone.Request with { CreatedAt = verdict.Record!.CreatedAt })),
            KeyDescriptionJson.ToJson(verdict.Record), "$"));
    }

    [Fact]
    public void Verify_AuthorityChainWithGoogleAnchorsOnly_IsUntrusted()
    {
        using var authority = AttestationAuthority.Create(Clock);
        using var phone = new Phone();
        var verdict = Google.Verify(authority.Issue(phone.Request), phone.Policy, Clock.GetUtcNow(), AttestationStatusList.Empty);
        Assert.Equal(AttestationFailure.UntrustedRoot, verdict.Failure);
    }

    [Fact]
    public void Verify_AuthorityExportedAndImported_IssuesChainsTheSameRootTrusts()
    {
        using var authority = AttestationAuthority.Create(Clock);
        using var copy = AttestationAuthority.ImportPem(authority.ExportPem(), Clock);
        using var phone = new Phone();
        Assert.Equal(authority.RootPublicKey, copy.RootPublicKey);
        Assert.True(new AttestationVerifier(authority.Anchors).Verify(copy.Issue(phone.Request), phone.Policy, Clock.GetUtcNow(), AttestationStatusList.Empty).Verified);
    }

    [Theory]
    [InlineData("invalid/malformed_rot_device_locked", "deviceLocked")]
    [InlineData("invalid/tags_not_in_ascending_order", "strictly ascending")]
    public void Verify_InvalidConformanceChain_IsRefusedAndItsExtensionDoesNotParse(string name, string defect)
    {
        var chain = AttestationFiles.Chain(name);
        var verdict = Google.Verify(chain, AttestationPolicy.ChainOnly, Clock.GetUtcNow(), null);
        Assert.False(verdict.Verified);
        Assert.Null(verdict.Record);

        // The tag-order case was edited after signing (its leaf signature fails first), so the parser is asked directly too.
        using var leaf = X509CertificateLoader.LoadCertificate(chain[0]);
        Assert.False(KeyDescriptionDer.TryParse(leaf.Extensions[KeyDescription.Oid]!.RawData, out _, out var error));
        Assert.Contains(defect, error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Verify_RootOfTrustWithBadDeviceLocked_IsRefusedAsAMalformedExtension() =>
        Assert.Equal(AttestationFailure.MalformedExtension,
            Google.Verify(AttestationFiles.Chain("invalid/malformed_rot_device_locked"), AttestationPolicy.ChainOnly, Clock.GetUtcNow(), null).Failure);

    [Fact]
    public void Verify_FlippedBitInAnyCertificate_IsRefused()
    {
        var chain = AttestationFiles.Chain(Factory);
        Assert.True(VerifyReal(Factory, chain).Verified);
        for (var c = 0; c < chain.Count; c++)
        {
            // Every byte of the first and last 64 (lengths, algorithm, signature) and every third byte between.
            for (var i = 0; i < chain[c].Length; i += i < 64 || i >= chain[c].Length - 64 ? 1 : 3)
            {
                var damaged = chain.Select(d => d.ToArray()).ToArray();
                damaged[c][i] ^= (byte)(1 << (i % 8));
                var verdict = VerifyReal(Factory, damaged);
                Assert.False(verdict.Verified, $"certificate {c}, byte {i} flipped, was accepted");
            }
        }
    }

    [Fact]
    public void Verify_ChainReordered_IsRefusedForNameChaining()
    {
        var chain = AttestationFiles.Chain(Factory);
        Assert.Equal(AttestationFailure.NameChaining, VerifyReal(Factory, [chain[0], chain[2], chain[1], chain[3], chain[4]]).Failure);
        Assert.Equal(AttestationFailure.NameChaining, VerifyReal(Factory, [.. chain.Reverse()]).Failure);
    }

    [Fact]
    public void Verify_LeafFromAnotherChain_IsRefused()
    {
        var chain = AttestationFiles.Chain(Factory);
        var other = AttestationFiles.Chain(WithImei);
        Assert.Equal(AttestationFailure.NameChaining, VerifyReal(Factory, [other[0], .. chain.Skip(1)]).Failure);
    }

    [Fact]
    public void Verify_LeafUnderTheRightIssuerNameSignedByAnotherKey_IsRefusedForItsSignature()
    {
        using var genuine = AttestationAuthority.Create(Clock);
        using var phone = new Phone();
        var chain = genuine.Issue(phone.Request);
        using var attestation = X509CertificateLoader.LoadCertificate(chain[1]);
        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leaf = new CertificateRequest("CN=Android Keystore Key", phone.Key, HashAlgorithmName.SHA256);
        leaf.CertificateExtensions.Add(new X509Extension(KeyDescription.Oid, KeyDescriptionDer.Encode(genuine.Describe(phone.Request)), false));
        using var forged = leaf.Create(attestation.SubjectName, X509SignatureGenerator.CreateForECDsa(forger), DateTimeOffset.UnixEpoch, Clock.GetUtcNow().AddYears(5), [1]);

        var verdict = new AttestationVerifier(genuine.Anchors).Verify([forged.RawData, .. chain.Skip(1)], phone.Policy, Clock.GetUtcNow(), AttestationStatusList.Empty);
        Assert.Equal(AttestationFailure.BadSignature, verdict.Failure);
    }

    [Fact]
    public void Verify_SelfSignedRootWithGooglesSubjectButAnotherKey_IsUntrusted()
    {
        var googleRoot = X509CertificateLoader.LoadCertificate(AttestationFiles.Chain(Factory)[^1]);
        using var rootKey = RSA.Create(2048);
        var rootRequest = new CertificateRequest(googleRoot.SubjectName, rootKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var root = rootRequest.CreateSelfSigned(Clock.GetUtcNow().AddYears(-1), Clock.GetUtcNow().AddYears(10));
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var intermediateRequest = new CertificateRequest("SERIALNUMBER=0123456789abcdef, T=TEE", intermediateKey, HashAlgorithmName.SHA256);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var intermediate = intermediateRequest.Create(root.SubjectName, X509SignatureGenerator.CreateForRSA(rootKey, RSASignaturePadding.Pkcs1),
            Clock.GetUtcNow().AddYears(-1), Clock.GetUtcNow().AddYears(5), [7]);
        using var phone = new Phone();
        using var authority = AttestationAuthority.Create(Clock);
        var leaf = new CertificateRequest("CN=Android Keystore Key", phone.Key, HashAlgorithmName.SHA256);
        leaf.CertificateExtensions.Add(new X509Extension(KeyDescription.Oid, KeyDescriptionDer.Encode(authority.Describe(phone.Request)), false));
        using var leafCertificate = leaf.Create(intermediate.SubjectName, X509SignatureGenerator.CreateForECDsa(intermediateKey), DateTimeOffset.UnixEpoch, Clock.GetUtcNow().AddYears(5), [1]);

        var verdict = Google.Verify([leafCertificate.RawData, intermediate.RawData, root.RawData], phone.Policy, Clock.GetUtcNow(), AttestationStatusList.Empty);
        Assert.Equal(AttestationFailure.UntrustedRoot, verdict.Failure);
    }

    [Fact]
    public void Verify_WrongChallenge_IsRefused()
    {
        using var authority = AttestationAuthority.Create(Clock);
        using var phone = new Phone();
        var verdict = new AttestationVerifier(authority.Anchors).Verify(authority.Issue(phone.Request),
            phone.Policy with { ExpectedChallenge = RandomNumberGenerator.GetBytes(32) }, Clock.GetUtcNow(), AttestationStatusList.Empty);
        Assert.Equal(AttestationFailure.ChallengeMismatch, verdict.Failure);
        Assert.NotNull(verdict.Record);
    }

    [Fact]
    public void Verify_AttestedImeiNotRegistered_IsRefused()
    {
        using var authority = AttestationAuthority.Create(Clock);
        using var phone = new Phone();
        var verifier = new AttestationVerifier(authority.Anchors);
        var chain = authority.Issue(phone.Request);
        Assert.Equal(AttestationFailure.ImeiMismatch,
            verifier.Verify(chain, phone.Policy with { ExpectedImeis = ["490154203237518"] }, Clock.GetUtcNow(), AttestationStatusList.Empty).Failure);
        Assert.Equal(AttestationFailure.ImeiNotAttested,
            verifier.Verify(authority.Issue(phone.Request with { Imei = null, SecondImei = null }), phone.Policy, Clock.GetUtcNow(), AttestationStatusList.Empty).Failure);
    }

    [Fact]
    public void Verify_RealPhoneAttestingItsImeis_MatchesOnlyItsOwnImeis()
    {
        var policy = AttestationPolicy.ChainOnly with { ExpectedImeis = ["351163520096208", "351163520096216"], RequireAttestedImei = true };
        Assert.True(VerifyReal(WithImei, policy: policy).Verified);
        Assert.Equal(AttestationFailure.ImeiMismatch, VerifyReal(WithImei, policy: policy with { ExpectedImeis = ["351163520096208", "490154203237518"] }).Failure);
        Assert.Equal(AttestationFailure.ImeiNotAttested, VerifyReal(Factory, policy: policy).Failure);
    }

    [Fact]
    public void Verify_SoftwareChainWhereHardwareIsRequired_IsRefused()
    {
        var hardware = AttestationPolicy.ChainOnly with { MinimumSecurityLevel = SecurityLevel.TrustedEnvironment };
        var verdict = VerifyReal("marlin/sdk29/TEE_EC_NONE", policy: hardware);
        Assert.Equal(AttestationFailure.SecurityLevelTooLow, verdict.Failure);
        Assert.Equal(RootTrust.Software, verdict.RootTrust);
        Assert.Equal(SecurityLevel.Software, verdict.EffectiveSecurityLevel);
        Assert.True(VerifyReal("marlin/sdk29/TEE_EC_NONE").Verified);

        using var authority = AttestationAuthority.Create(Clock);
        using var phone = new Phone();
        var software = new AttestationVerifier(authority.Anchors).Verify(authority.Issue(phone.Request with { SecurityLevel = SecurityLevel.Software }),
            phone.Policy, Clock.GetUtcNow(), AttestationStatusList.Empty);
        Assert.Equal(AttestationFailure.SecurityLevelTooLow, software.Failure);
    }

    [Fact]
    public void Verify_StrongBoxRequiredAndKeyInTee_IsRefused()
    {
        var strongBox = AttestationPolicy.ChainOnly with { MinimumSecurityLevel = SecurityLevel.StrongBox };
        Assert.Equal(AttestationFailure.SecurityLevelTooLow, VerifyReal(Factory, policy: strongBox).Failure);
        Assert.True(VerifyReal("akita/sdk34/SB_RSA_NONE", policy: strongBox).Verified);
    }

    [Fact]
    public void Verify_BootStateNotVerified_IsRefusedUnlessThePolicyAllowsIt()
    {
        using var authority = AttestationAuthority.Create(Clock);
        using var phone = new Phone();
        var verifier = new AttestationVerifier(authority.Anchors);
        var unlocked = authority.Issue(phone.Request with { VerifiedBootState = VerifiedBootState.Unverified, DeviceLocked = false });
        Assert.Equal(AttestationFailure.VerifiedBootState, verifier.Verify(unlocked, phone.Policy, Clock.GetUtcNow(), AttestationStatusList.Empty).Failure);
        var lenient = phone.Policy with { AllowedBootStates = new HashSet<VerifiedBootState> { VerifiedBootState.Verified, VerifiedBootState.Unverified } };
        Assert.True(verifier.Verify(unlocked, lenient, Clock.GetUtcNow(), AttestationStatusList.Empty).Verified);
    }

    [Fact]
    public void Verify_AttestedKeyIsNotTheEnrollmentKey_IsRefused()
    {
        using var authority = AttestationAuthority.Create(Clock);
        using var phone = new Phone();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var verdict = new AttestationVerifier(authority.Anchors).Verify(authority.Issue(phone.Request),
            phone.Policy with { ExpectedPublicKey = other.ExportSubjectPublicKeyInfo() }, Clock.GetUtcNow(), AttestationStatusList.Empty);
        Assert.Equal(AttestationFailure.KeyMismatch, verdict.Failure);
    }

    [Fact]
    public void Verify_KeyImportedIntoTheHardware_IsRefused()
    {
        using var authority = AttestationAuthority.Create(Clock);
        using var phone = new Phone();
        var verdict = new AttestationVerifier(authority.Anchors).Verify(authority.Issue(phone.Request with { Origin = KeyOrigin.Imported }),
            phone.Policy, Clock.GetUtcNow(), AttestationStatusList.Empty);
        Assert.Equal(AttestationFailure.KeyNotGenerated, verdict.Failure);
    }

    [Fact]
    public void Verify_NoStatusListWhenOneIsRequired_IsRefused()
    {
        using var authority = AttestationAuthority.Create(Clock);
        using var phone = new Phone();
        var verdict = new AttestationVerifier(authority.Anchors).Verify(authority.Issue(phone.Request), phone.Policy, Clock.GetUtcNow(), null);
        Assert.Equal(AttestationFailure.StatusListUnavailable, verdict.Failure);
    }

    [Fact]
    public async Task Verify_RevokedIntermediateInListServedOverHttp_IsRefused()
    {
        using var server = new StatusListServer();
        using var http = new HttpClient();
        var chain = AttestationFiles.Chain(Factory);
        // .NET writes the serial in upper case with the DER sign byte (00BFC6…); the status list writes bfc6….
        var droidCa3 = X509CertificateLoader.LoadCertificate(chain[2]).SerialNumber.ToLowerInvariant().TrimStart('0');
        server.Serve(StatusListServer.Revoking(droidCa3));
        var client = new AttestationStatusClient(http, server.Address, TimeSpan.FromHours(1), Clock);

        var state = await client.GetAsync(TestContext.Current.CancellationToken);
        Assert.NotNull(state.List);
        var verdict = VerifyReal(Factory, list: state.List);
        Assert.Equal(AttestationFailure.Revoked, verdict.Failure);
        Assert.Contains(droidCa3, verdict.Message, StringComparison.Ordinal);
        Assert.True(VerifyReal(WithImei, list: state.List).Verified); // another CA3 certificate, not revoked

        using var authority = AttestationAuthority.Create(Clock);
        using var phone = new Phone();
        server.Serve(StatusListServer.Revoking(authority.IntermediateSerialHex));
        Clock.Advance(TimeSpan.FromHours(1));
        state = await client.GetAsync(TestContext.Current.CancellationToken);
        Assert.Equal(AttestationFailure.Revoked,
            new AttestationVerifier(authority.Anchors).Verify(authority.Issue(phone.Request), phone.Policy, Clock.GetUtcNow(), state.List).Failure);
    }

    [Fact]
    public void Verify_RemotelyProvisionedChainAfterItsCertificatesExpire_IsRefusedButAFactoryChainIsNot()
    {
        const string rkp = "caiman/sdk36/TEE_EC_RKP";
        var chain = AttestationFiles.Chain(rkp);
        Assert.Equal(ProvisioningMethod.Remote, VerifyReal(rkp).Provisioning);
        var late = Google.Verify(chain, AttestationPolicy.ChainOnly, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), null);
        Assert.Equal(AttestationFailure.Expired, late.Failure);

        // Blueline's factory intermediates expire in 2028 and its 2016 root certificate in May 2026; the phone keeps them for life.
        const string factory = "blueline/sdk28/TEE_EC_NONE";
        var years = Google.Verify(AttestationFiles.Chain(factory), AttestationPolicy.ChainOnly, new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero), null);
        Assert.True(years.Verified, years.Message);
        Assert.Equal(ProvisioningMethod.Factory, years.Provisioning);

        var early = Google.Verify(AttestationFiles.Chain(factory), AttestationPolicy.ChainOnly, new DateTimeOffset(2018, 1, 1, 0, 0, 0, TimeSpan.Zero), null);
        Assert.Equal(AttestationFailure.NotYetValid, early.Failure);
    }

    [Theory]
    [InlineData("tokay/sdk37/TEE_MLDSA_FACTORY")]
    [InlineData("tokay/sdk37/TEE_MLDSA_RKP")]
    public void Verify_RealChainAttestingAnMlDsaKey_VerifiesItsClassicalSignaturesAndReturnsTheMlDsaKey(string name)
    {
        var verdict = VerifyReal(name);
        Assert.True(verdict.Verified, verdict.Message);
        var spki = new AsnReader(verdict.PublicKey, AsnEncodingRules.DER).ReadSequence();
        Assert.Equal("2.16.840.1.101.3.4.3.18", spki.ReadSequence().ReadObjectIdentifier()); // ML-DSA-65
    }

    [Fact]
    public void Verify_CertificateSignedWithMlDsa_IsRefusedAsUnsupportedOrChecked()
    {
        using var authority = AttestationAuthority.Create(Clock);
        using var phone = new Phone();
        var chain = authority.Issue(phone.Request).ToArray();
        chain[0] = Resign(chain[0], "2.16.840.1.101.3.4.3.18", RandomNumberGenerator.GetBytes(3309));

        var verdict = new AttestationVerifier(authority.Anchors).Verify(chain, phone.Policy, Clock.GetUtcNow(), AttestationStatusList.Empty);
        Assert.False(verdict.Verified);
        if (MLDsa.IsSupported)
        {
            Assert.Equal(AttestationFailure.BadSignature, verdict.Failure);
        }
        else
        {
            Assert.Equal(AttestationFailure.UnsupportedAlgorithm, verdict.Failure);
            Assert.Contains("unsupported algorithm (ML-DSA)", verdict.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Verify_P256IntermediateSigningWithSha384_ChecksEverySignatureBeforeFindingItsPlaceholderExtension()
    {
        var chain = AttestationFiles.Chain("p256_sha384_intermediate");
        var root = X509CertificateLoader.LoadCertificate(chain[^1]).PublicKey.ExportSubjectPublicKeyInfo();
        var verdict = new AttestationVerifier(AttestationTrustAnchors.Only([root])).Verify(chain, AttestationPolicy.ChainOnly, new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero), null);
        // Signatures, trust and dates pass; the leaf's extension is a 6-byte placeholder, not a KeyDescription.
        Assert.True(verdict.Failure == AttestationFailure.MalformedExtension, verdict.Message);
        Assert.Equal(AttestationFailure.UntrustedRoot, Google.Verify(chain, AttestationPolicy.ChainOnly, new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero), null).Failure);
    }

    [Fact]
    public void Verify_ChainOfOneCertificateOrOfTen_IsRefusedForItsLength()
    {
        var single = AttestationFiles.Chain("allow_while_on_body");
        Assert.Equal(AttestationFailure.ChainTooShort, Google.Verify(single, AttestationPolicy.ChainOnly, Clock.GetUtcNow(), null).Failure);
        Assert.Equal(AttestationFailure.ChainTooShort, Google.Verify([], AttestationPolicy.ChainOnly, Clock.GetUtcNow(), null).Failure);
        var chain = AttestationFiles.Chain(Factory);
        Assert.Equal(AttestationFailure.ChainTooLong, Google.Verify([.. chain, .. chain], AttestationPolicy.ChainOnly, Clock.GetUtcNow(), null).Failure);
    }

    // The certificate with its signature algorithm replaced (inside and outside the signed part) and a new signature value.
    private static byte[] Resign(byte[] certificate, string algorithm, byte[] signature)
    {
        var outer = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence();
        var tbs = outer.ReadSequence();
        var algorithmId = new AsnWriter(AsnEncodingRules.DER);
        using (algorithmId.PushSequence()) algorithmId.WriteObjectIdentifier(algorithm);
        var newTbs = new AsnWriter(AsnEncodingRules.DER);
        using (newTbs.PushSequence())
        {
            newTbs.WriteEncodedValue(tbs.ReadEncodedValue().Span); // version
            newTbs.WriteEncodedValue(tbs.ReadEncodedValue().Span); // serial
            tbs.ReadEncodedValue();
            algorithmId.CopyTo(newTbs);
            while (tbs.HasData) newTbs.WriteEncodedValue(tbs.ReadEncodedValue().Span);
        }
        var result = new AsnWriter(AsnEncodingRules.DER);
        using (result.PushSequence())
        {
            newTbs.CopyTo(result);
            algorithmId.CopyTo(result);
            result.WriteBitString(signature);
        }
        return result.Encode();
    }
}
