using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Lien.Attestation;

namespace Lien.Bench.Attestation;

/// <summary>
/// Attestation chains verified per second on one core: what an enrollment costs beyond its database work. Real
/// Pixel chains from the conformance data (an RKP chain with P-256, P-384 and RSA-4096 signatures; a factory chain
/// with RSA-4096 throughout; a 2026 chain under the ECDSA P-384 root) at their creation time, and a test authority's
/// chain under the strict enrollment policy (challenge, IMEIs, key, status list).
/// </summary>
// One launch, 15 measured iterations: short, yet enough for a median on a shared 2-core machine.
[SimpleJob(launchCount: 1, warmupCount: 5, iterationCount: 15)]
[MedianColumn]
[MemoryDiagnoser]
public class VerifyBenchmarks
{
    private static readonly AttestationVerifier Google = new(AttestationTrustAnchors.Google);
    private IReadOnlyList<byte[]> chain = [];
    private DateTimeOffset createdAt;

    [Params("akita/sdk34/TEE_EC_NONE", "blueline/sdk28/TEE_EC_NONE", "tegu/sdk36/TEE_EC_2026_ROOT")]
    public string Pixel { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var data = Path.Combine(BenchData.RepositoryRoot(), "tests", "conformance", "android-key-attestation", "testdata");
        if (!AttestationPem.TryRead(File.ReadAllText(Path.Combine(data, Pixel + ".pem")), out var certificates, out var error)) throw new InvalidDataException(error);
        var record = AttestationConformance.ParseRecord(File.ReadAllText(Path.Combine(data, Pixel + ".json")))!;
        chain = certificates;
        createdAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse((string)record["softwareEnforced"]!["creationDateTime"]!, System.Globalization.CultureInfo.InvariantCulture));
        if (!PixelChain()) throw new InvalidDataException(Pixel + " does not verify");
    }

    [Benchmark]
    public bool PixelChain() => Google.Verify(chain, AttestationPolicy.ChainOnly, createdAt, BenchData.StatusList).Verified;
}

/// <summary>A test authority's chain under the strict enrollment policy: challenge, IMEIs, key, status list.</summary>
[SimpleJob(launchCount: 1, warmupCount: 5, iterationCount: 15)]
[MedianColumn]
[MemoryDiagnoser]
public class AuthorityVerifyBenchmarks
{
    private AttestationAuthority authority = null!;
    private AttestationVerifier authorityVerifier = null!;
    private IReadOnlyList<byte[]> authorityChain = [];
    private AttestationPolicy enrollmentPolicy = null!;

    [GlobalSetup]
    public void Setup()
    {
        authority = AttestationAuthority.Create(TimeProvider.System);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var challenge = RandomNumberGenerator.GetBytes(32);
        authorityChain = authority.Issue(new AttestationRequest(key.ExportSubjectPublicKeyInfo(), challenge) { Imei = "490154203237518" });
        authorityVerifier = new AttestationVerifier(authority.Anchors);
        enrollmentPolicy = new AttestationPolicy
        {
            ExpectedChallenge = challenge, ExpectedImeis = ["490154203237518"], RequireAttestedImei = true, ExpectedPublicKey = key.ExportSubjectPublicKeyInfo(),
        };
        if (!AuthorityChain()) throw new InvalidDataException("the authority chain does not verify");
    }

    [GlobalCleanup]
    public void Cleanup() => authority.Dispose();

    [Benchmark]
    public bool AuthorityChain() => authorityVerifier.Verify(authorityChain, enrollmentPolicy, TimeProvider.System.GetUtcNow(), BenchData.StatusList).Verified;
}

internal static class BenchData
{
    // A status list the size of Google's (a few thousand serials), so the revocation lookup is not free by accident.
    public static readonly AttestationStatusList StatusList = BuildStatusList();

    private static AttestationStatusList BuildStatusList()
    {
        var entries = string.Join(",", Enumerable.Range(1, 5000).Select(i => $"\"{i * 7919:x}\":{{\"status\":\"REVOKED\"}}"));
        return AttestationStatusList.TryParse(System.Text.Encoding.UTF8.GetBytes($"{{\"entries\":{{{entries}}}}}"), out var list, out var error)
            ? list : throw new InvalidDataException(error);
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Lien.slnx")))
                return dir.FullName;
        throw new DirectoryNotFoundException($"No Lien.slnx above {AppContext.BaseDirectory}.");
    }
}
