using System.Security.Cryptography;
using Lien.Attestation;
using Lien.Server.Api;
using Microsoft.Extensions.Options;

namespace Lien.Server.DeviceTrust;

/// <summary>
/// Settings of attestation checks (<c>Lien:Attestation:*</c>): where the attestation status list (revocations) is
/// fetched from and how often, extra hardware roots to trust beside Google's (an OEM's own, or a test authority: a PEM
/// file of certificates, trusted by their keys), and whether a phone with an unlocked bootloader may enroll.
/// </summary>
internal sealed class AttestationOptions
{
    public string StatusListUrl { get; set; } = AttestationStatusClient.GoogleAddress.ToString();
    public TimeSpan StatusListRefresh { get; set; } = TimeSpan.FromHours(1);
    public string? TrustedRoots { get; set; }
    public bool AllowUnverifiedBoot { get; set; }
}

/// <summary>A checked attestation: the evidence; or why it is refused (<see cref="Unavailable"/>: the server cannot check now, retry later).</summary>
internal readonly record struct AttestationResult(AttestationEvidence? Evidence, string? Refusal, bool Unavailable = false);

/// <summary>
/// Verifies the Android Key Attestation chain an enrollment carries (src/Lien.Attestation): chained to a trusted root
/// by public key, valid now, no certificate revoked on the attestation status list, the key made in secure hardware
/// with this enrollment's challenge and verified boot, and the attested key the one the enrollment is signed with.
/// </summary>
internal sealed class AttestationCheck
{
    public const int MaxCertificates = 10;
    public const int MaxCertificateChars = 16_384;

    /// <summary>The chain's certificates (DER), or null when none was sent; a malformed entry is a field error.</summary>
    public static IReadOnlyList<byte[]>? Decode(IReadOnlyList<string>? chain, Errors errors)
    {
        if (chain is null) return null;
        if (chain.Count is 0 or > MaxCertificates)
        {
            errors.Add("attestation", $"attestation must list 1 to {MaxCertificates} certificates, leaf first.");
            return null;
        }
        var certificates = new List<byte[]>(chain.Count);
        foreach (var entry in chain)
        {
            var der = new byte[((entry?.Length ?? 0) * 3 / 4) + 3];
            if (entry is not { Length: > 0 and <= MaxCertificateChars } || !Convert.TryFromBase64String(entry, der, out var written))
            {
                errors.Add("attestation", $"attestation must list certificates as base64 DER, each at most {MaxCertificateChars} characters.");
                return null;
            }
            certificates.Add(der[..written]);
        }
        return certificates;
    }

    private readonly AttestationVerifier _verifier;
    private readonly AttestationStatusClient _status;
    private readonly AttestationPolicy _policy;
    private readonly TimeProvider _time;

    public AttestationCheck(IOptions<AttestationOptions> options, IHttpClientFactory http, TimeProvider time)
    {
        var o = options.Value;
        var anchors = AttestationTrustAnchors.Google;
        if (o.TrustedRoots is { Length: > 0 } path)
        {
            if (!AttestationPem.TryReadRootKeys(File.ReadAllText(path), out var roots, out var problem)) throw new FormatException(problem + ".");
            anchors = anchors.WithHardwareRoots(roots);
        }
        _verifier = new AttestationVerifier(anchors);
        _status = new AttestationStatusClient(http.CreateClient(nameof(AttestationCheck)), new Uri(o.StatusListUrl), o.StatusListRefresh, time);
        _policy = new AttestationPolicy
        {
            MinimumSecurityLevel = SecurityLevel.TrustedEnvironment,
            AllowedBootStates = o.AllowUnverifiedBoot
                ? new HashSet<VerifiedBootState> { VerifiedBootState.Verified, VerifiedBootState.SelfSigned, VerifiedBootState.Unverified }
                : new HashSet<VerifiedBootState> { VerifiedBootState.Verified },
        };
        _time = time;
    }

    /// <summary>What is wrong with the <c>Lien:Attestation</c> settings (the trusted-roots file, the status list's address), or null.</summary>
    public static string? SettingsProblem(IServiceProvider services)
    {
        try
        {
            services.GetRequiredService<AttestationCheck>();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or CryptographicException)
        {
            var o = services.GetRequiredService<IOptions<AttestationOptions>>().Value;
            return e is UriFormatException
                ? $"Lien:Attestation:StatusListUrl ({o.StatusListUrl}) is not an absolute address: {e.Message}"
                : $"Lien:Attestation:TrustedRoots ({o.TrustedRoots}) cannot be read as PEM certificates or public keys: {e.Message}";
        }
    }

    /// <summary>
    /// Verifies <paramref name="chain"/> now: trusted root, validity, revocation, the key made in a TEE or StrongBox with
    /// <paramref name="challenge"/> under verified boot, and the attested key exactly <paramref name="publicKey"/>. The
    /// IMEIs it attests are compared with the device's registration by the enrollment.
    /// </summary>
    public async Task<AttestationResult> CheckAsync(IReadOnlyList<byte[]> chain, byte[] challenge, byte[] publicKey, CancellationToken ct)
    {
        var status = await _status.GetAsync(ct);
        if (status.List is null) return new(null, "the attestation status list (revocations) cannot be fetched: " + status.Describe(), Unavailable: true);
        var verdict = _verifier.Verify(chain, _policy with { ExpectedChallenge = challenge, ExpectedPublicKey = publicKey }, _time.GetUtcNow(), status.List);
        if (!verdict.Verified) return new(null, "the key attestation does not hold: " + verdict.Message);
        var ids = verdict.Record!.HardwareEnforced;
        return new(new AttestationEvidence(verdict.EffectiveSecurityLevel!.Value.ToString(), ids.RootOfTrust?.VerifiedBootState.ToString() ?? "unknown",
            verdict.AttestedImeis, ids.AttestationIdBrand, ids.AttestationIdModel), null);
    }
}
