using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Lien.Attestation;

/// <summary>Why a chain was refused: machine-readable, one value per kind of defect.</summary>
public enum AttestationFailure
{
    None,
    MalformedCertificate,
    ChainTooShort,
    NameChaining,
    BadSignature,
    UnsupportedAlgorithm,
    UntrustedRoot,
    NotYetValid,
    Expired,
    StatusListUnavailable,
    Revoked,
    MissingExtension,
    UnexpectedExtension,
    MalformedExtension,
    ChallengeMismatch,
    SecurityLevelTooLow,
    VerifiedBootState,
    KeyNotGenerated,
    ImeiNotAttested,
    ImeiMismatch,
    KeyMismatch,
    ChainTooLong,
}

/// <summary>How the chain's attestation key got to the phone (the reference verifier's distinction).</summary>
public enum ProvisioningMethod
{
    /// <summary>Neither: a software chain or an unusual one; every certificate but the leaf must be in date.</summary>
    Unknown,

    /// <summary>Keys put in at the factory (intermediate named by serialNumber and title TEE/StrongBox): kept for the phone's life, so expiry of its certificates is not held against it.</summary>
    Factory,

    /// <summary>Remote key provisioning (Droid CA2 intermediate, or the provisioning-info extension): short-lived by design, every certificate but the leaf must be in date.</summary>
    Remote,
}

/// <summary>What a chain must show to be accepted. Defaults are the strict ones an enrollment needs.</summary>
public sealed record AttestationPolicy
{
    /// <summary>The challenge the server issued; null skips the comparison (conformance runs only).</summary>
    public byte[]? ExpectedChallenge { get; init; }

    /// <summary>The lowest acceptable security level of the attestation and of the key. Software attestation never reaches TEE.</summary>
    public SecurityLevel MinimumSecurityLevel { get; init; } = SecurityLevel.TrustedEnvironment;

    /// <summary>Boot states accepted; Verified only unless the lender's policy says otherwise.</summary>
    public IReadOnlySet<VerifiedBootState> AllowedBootStates { get; init; } = new HashSet<VerifiedBootState> { VerifiedBootState.Verified };

    /// <summary>The phone's registered IMEIs; every IMEI the hardware attests must be one of them. Null skips the check.</summary>
    public IReadOnlyCollection<string>? ExpectedImeis { get; init; }

    /// <summary>Refuse a chain that attests no IMEI at all (for a lender that requires the IMEI attested).</summary>
    public bool RequireAttestedImei { get; init; }

    /// <summary>The key the enrollment is signed with (SubjectPublicKeyInfo DER); the leaf must certify exactly it. Null skips.</summary>
    public byte[]? ExpectedPublicKey { get; init; }

    /// <summary>The key must have been generated in the secure hardware (origin GENERATED), not imported into it: an imported key may be known outside the phone.</summary>
    public bool RequireGeneratedKey { get; init; } = true;

    /// <summary>Refuse when no status list is given (on by default: an unchecked revocation is a hole, not a pass).</summary>
    public bool RequireStatusList { get; init; } = true;

    /// <summary>Everything off but the chain itself: signatures, trust, validity, revocation if a list is given, the extension.</summary>
    public static AttestationPolicy ChainOnly { get; } = new()
    {
        MinimumSecurityLevel = SecurityLevel.Software,
        AllowedBootStates = new HashSet<VerifiedBootState>(Enum.GetValues<VerifiedBootState>()),
        RequireGeneratedKey = false,
        RequireStatusList = false,
    };
}

/// <summary>The outcome of verifying one chain: accepted or refused with a reason and a message, and what was parsed.</summary>
public sealed record AttestationVerdict
{
    public required bool Verified { get; init; }
    public required AttestationFailure Failure { get; init; }
    public required string Message { get; init; }

    /// <summary>The leaf's KeyDescription, when it was reached and parsed (also on a policy refusal).</summary>
    public KeyDescription? Record { get; init; }

    /// <summary>The attested key (the leaf's SubjectPublicKeyInfo DER), when the chain could be read.</summary>
    public byte[]? PublicKey { get; init; }

    public RootTrust? RootTrust { get; init; }
    public ProvisioningMethod Provisioning { get; init; }

    /// <summary>The level the key can be trusted at: the lowest of the attestation's, the key's, and the root's.</summary>
    public SecurityLevel? EffectiveSecurityLevel { get; init; }

    /// <summary>The IMEIs the secure hardware attests (hardwareEnforced only), in order.</summary>
    public IReadOnlyList<string> AttestedImeis =>
        Record is null ? [] : new[] { Record.HardwareEnforced.AttestationIdImei, Record.HardwareEnforced.AttestationIdSecondImei }.OfType<string>().ToArray();
}

/// <summary>
/// Verifies Android Key Attestation certificate chains (leaf first, root last) as the reference verifier
/// android/keyattestation does, with .NET's own cryptography. Thread-safe; never throws for bad input.
/// </summary>
public sealed class AttestationVerifier(AttestationTrustAnchors anchors)
{
    // Signatures of the shared certificates (Google's CAs, factory batch intermediates, the roots) verified before, by
    // the SHA-256 of the certificate and its issuer's key: the same bytes under the same key verify the same way, and
    // every phone's chain repeats them. A phone's own certificates (leaf, attestation key) are always checked afresh.
    private const int VerifiedCacheLimit = 4096;
    private readonly ConcurrentDictionary<string, bool> verifiedSignatures = new(StringComparer.Ordinal);

    private const int MaxChainLength = 8;
    private const string ProvisioningInfoOid = "1.3.6.1.4.1.11129.2.1.30";
    private const string SerialNumberOid = "2.5.4.5";
    private const string TitleOid = "2.5.4.12";

    /// <summary>Verifies <paramref name="chain"/> (DER certificates, leaf first) at <paramref name="at"/>.</summary>
    public AttestationVerdict Verify(IReadOnlyList<byte[]> chain, AttestationPolicy policy, DateTimeOffset at, AttestationStatusList? statusList)
    {
        try
        {
            return VerifyChain(chain, policy, at, statusList);
        }
        catch (Exception e) when (e is CryptographicException or PlatformNotSupportedException)
        {
            // A key or signature .NET refuses to load is a malformed chain, not a crash.
            return Refuse(AttestationFailure.MalformedCertificate, "a key in the chain cannot be used: " + e.Message);
        }
    }

    private AttestationVerdict VerifyChain(IReadOnlyList<byte[]> chain, AttestationPolicy policy, DateTimeOffset at, AttestationStatusList? statusList)
    {
        // Android chains hold 3 to 5 certificates (6 with an attest-key); a longer one would only make the server
        // verify more signatures for nothing.
        if (chain.Count > MaxChainLength) return Refuse(AttestationFailure.ChainTooLong, $"an attestation chain has at most {MaxChainLength} certificates; this one has {chain.Count}");
        if (chain.Count < 3) return Refuse(AttestationFailure.ChainTooShort, $"an attestation chain has at least 3 certificates (leaf, intermediate, root); this one has {chain.Count}");
        var certificates = new AttestationCertificate[chain.Count];
        for (var i = 0; i < chain.Count; i++)
        {
            if (!AttestationCertificate.TryRead(chain[i], out var certificate, out var error))
                return Refuse(AttestationFailure.MalformedCertificate, $"certificate {i} is not a DER X.509 certificate: {error}");
            certificates[i] = certificate;
        }
        var leaf = certificates[0];
        var root = certificates[^1];

        for (var i = 0; i < certificates.Length - 1; i++)
        {
            if (!certificates[i].Issuer.Span.SequenceEqual(certificates[i + 1].Subject.Span))
                return Refuse(AttestationFailure.NameChaining, $"certificate {i}'s issuer is not the subject of certificate {i + 1}: the chain is out of order or mixed", leaf);
        }
        if (!root.IsSelfIssued) return Refuse(AttestationFailure.NameChaining, "the last certificate is not a self-issued root", leaf);

        for (var i = 0; i < certificates.Length; i++)
        {
            var issuer = i + 1 < certificates.Length ? certificates[i + 1] : root;
            var shared = i >= 2 ? Convert.ToBase64String(SHA256.HashData([.. certificates[i].Raw, .. issuer.SubjectPublicKeyInfo])) : null;
            if (shared is not null && verifiedSignatures.ContainsKey(shared)) continue;
            var (failure, message) = ChainSignature.Check(certificates[i], issuer, sharedIssuer: i + 1 >= 2);
            if (failure != AttestationFailure.None) return Refuse(failure, $"certificate {i}: {message}", leaf);
            if (shared is null) continue;
            if (verifiedSignatures.Count >= VerifiedCacheLimit) verifiedSignatures.Clear();
            verifiedSignatures.TryAdd(shared, true);
        }

        if (!anchors.TryFind(root.SubjectPublicKeyInfo, out var trust))
            return Refuse(AttestationFailure.UntrustedRoot, "the root's public key is not a trusted attestation root (trust goes by key, not by name)", leaf);

        var provisioning = Provisioning(certificates);
        // The leaf's dates are written by the phone (often 1970 to 2048), so the reference verifier does not judge them.
        for (var i = 1; i < certificates.Length; i++)
        {
            var certificate = certificates[i];
            if (at < certificate.NotBefore)
                return Refuse(AttestationFailure.NotYetValid, $"certificate {i} is not valid before {certificate.NotBefore:O} (checked at {at:O})", leaf, trust, provisioning);
            if (at > certificate.NotAfter && provisioning != ProvisioningMethod.Factory)
                return Refuse(AttestationFailure.Expired, $"certificate {i} expired at {certificate.NotAfter:O} (checked at {at:O}; a {provisioning} chain does not outlive its certificates)", leaf, trust, provisioning);
        }

        if (statusList is null)
        {
            if (policy.RequireStatusList)
                return Refuse(AttestationFailure.StatusListUnavailable, "no attestation status list is available, so revocation cannot be checked", leaf, trust, provisioning);
        }
        else
        {
            for (var i = 1; i < certificates.Length; i++)
            {
                if (statusList.Find(certificates[i].SerialHex) is { } entry)
                    return Refuse(AttestationFailure.Revoked, $"certificate {i} (serial {certificates[i].SerialHex}) is {entry.Status}{(entry.Reason is null ? "" : $" ({entry.Reason})")} in the attestation status list", leaf, trust, provisioning);
            }
        }

        for (var i = 1; i < certificates.Length; i++)
        {
            if (certificates[i].Extensions.ContainsKey(KeyDescription.Oid))
                return Refuse(AttestationFailure.UnexpectedExtension, $"certificate {i} carries an attestation extension; only the leaf may", leaf, trust, provisioning);
        }
        if (!leaf.Extensions.TryGetValue(KeyDescription.Oid, out var extension))
            return Refuse(AttestationFailure.MissingExtension, "the leaf has no key attestation extension (1.3.6.1.4.1.11129.2.1.17)", leaf, trust, provisioning);
        if (!KeyDescriptionDer.TryParse(extension, out var record, out var parseError))
            return Refuse(AttestationFailure.MalformedExtension, "the key attestation extension is malformed: " + parseError, leaf, trust, provisioning);

        var effective = (SecurityLevel)Math.Min(Math.Min((int)record.AttestationSecurityLevel, (int)record.KeyMintSecurityLevel),
            trust == RootTrust.Software ? (int)SecurityLevel.Software : int.MaxValue);
        AttestationVerdict Policy(AttestationFailure failure, string message) => new()
        {
            Verified = false, Failure = failure, Message = message, Record = record, PublicKey = leaf.SubjectPublicKeyInfo,
            RootTrust = trust, Provisioning = provisioning, EffectiveSecurityLevel = effective,
        };

        if (policy.ExpectedChallenge is { } challenge && !CryptographicOperations.FixedTimeEquals(challenge, record.AttestationChallenge))
            return Policy(AttestationFailure.ChallengeMismatch, "the attested challenge is not the one this server issued");
        if (effective < policy.MinimumSecurityLevel)
        {
            var why = trust == RootTrust.Software ? "the chain ends in a software attestation root" : $"attestation {KeyDescriptionJson.Name(record.AttestationSecurityLevel)}, key {KeyDescriptionJson.Name(record.KeyMintSecurityLevel)}";
            return Policy(AttestationFailure.SecurityLevelTooLow, $"security level {KeyDescriptionJson.Name(effective)} is below the required {KeyDescriptionJson.Name(policy.MinimumSecurityLevel)} ({why})");
        }
        var bootState = record.HardwareEnforced.RootOfTrust?.VerifiedBootState ?? VerifiedBootState.Unverified;
        if (!policy.AllowedBootStates.Contains(bootState))
            return Policy(AttestationFailure.VerifiedBootState, $"verified boot state {KeyDescriptionJson.Name(bootState)} is not allowed (allowed: {string.Join(", ", policy.AllowedBootStates.Select(KeyDescriptionJson.Name))})");

        if (policy.RequireGeneratedKey && record.HardwareEnforced.Origin != KeyOrigin.Generated)
            return Policy(AttestationFailure.KeyNotGenerated, $"the secure hardware does not attest that it generated the key (origin {record.HardwareEnforced.Origin?.ToString() ?? "absent"})");

        string?[] attested = [record.HardwareEnforced.AttestationIdImei, record.HardwareEnforced.AttestationIdSecondImei];
        if (policy.RequireAttestedImei && attested.All(i => i is null))
            return Policy(AttestationFailure.ImeiNotAttested, "the secure hardware attests no IMEI, and this policy requires it");
        if (policy.ExpectedImeis is { } expected)
        {
            foreach (var imei in attested.OfType<string>())
            {
                if (!expected.Contains(imei, StringComparer.Ordinal))
                    return Policy(AttestationFailure.ImeiMismatch, $"the attested IMEI {imei} is not one of the phone's registered IMEIs");
            }
        }
        if (policy.ExpectedPublicKey is { } key && !key.AsSpan().SequenceEqual(leaf.SubjectPublicKeyInfo))
            return Policy(AttestationFailure.KeyMismatch, "the attested key is not the key the enrollment is signed with");

        return new AttestationVerdict
        {
            Verified = true, Failure = AttestationFailure.None,
            Message = $"verified: {KeyDescriptionJson.Name(effective)} key, {(trust == RootTrust.Hardware ? "hardware" : "software")} root, {provisioning} provisioning, boot {KeyDescriptionJson.Name(bootState)}",
            Record = record, PublicKey = leaf.SubjectPublicKeyInfo, RootTrust = trust, Provisioning = provisioning, EffectiveSecurityLevel = effective,
        };
    }

    private static ProvisioningMethod Provisioning(AttestationCertificate[] certificates)
    {
        // The certificate the root signed names the provisioning: a factory intermediate carries a serialNumber and
        // a title TEE or StrongBox; the RKP one is Google's Droid CA2 (older RKP chains: the provisioning-info extension).
        var intermediate = certificates[^2];
        if (intermediate.SubjectAttribute(SerialNumberOid) is not null && intermediate.SubjectAttribute(TitleOid) is "TEE" or "StrongBox")
            return ProvisioningMethod.Factory;
        if (certificates.Length > 4
            && (intermediate.SubjectAttribute("2.5.4.3") == "Droid CA2" && intermediate.SubjectAttribute("2.5.4.10") == "Google LLC"
                || certificates[1].Extensions.ContainsKey(ProvisioningInfoOid)))
            return ProvisioningMethod.Remote;
        return ProvisioningMethod.Unknown;
    }

    private static AttestationVerdict Refuse(AttestationFailure failure, string message, AttestationCertificate? leaf = null,
        RootTrust? trust = null, ProvisioningMethod provisioning = ProvisioningMethod.Unknown) => new()
    {
        Verified = false, Failure = failure, Message = message, PublicKey = leaf?.SubjectPublicKeyInfo, RootTrust = trust, Provisioning = provisioning,
    };
}
