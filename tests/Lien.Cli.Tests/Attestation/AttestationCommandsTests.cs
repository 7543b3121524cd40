using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Lien.Attestation;
using Lien.Tests.Codes;

namespace Lien.Cli.Tests.Attestation;

public sealed class AttestationCommandsTests : IDisposable
{
    private static readonly string Data = Path.Combine(ConformanceFiles.RepositoryRoot, "tests", "conformance", "android-key-attestation", "testdata");
    private static readonly string PixelWithImei = Path.Combine(Data, "akita", "sdk34", "TEE_RSA_BASE+IMEI.pem");
    private const string PixelCreatedAt = "2024-09-26T22:31:25.676Z";
    private readonly string _temp = Path.Combine(Path.GetTempPath(), $"lien-attestation-tests-{Guid.NewGuid():N}");

    public AttestationCommandsTests() => Directory.CreateDirectory(_temp);

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static async Task<(int ExitCode, string Output, string Error)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await LienCli.RunAsync(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public async Task Conformance_SharedTestData_PassesEveryChainExitZero()
    {
        var (exitCode, output, _) = await Run("attestation", "conformance", Data);
        Assert.Equal(0, exitCode);
        Assert.Equal("21 passed, 0 failed", Lines(output)[^1]);
    }

    [Fact]
    public async Task Conformance_RecordThatDiffersFromTheChain_ListsItAndExitsOne()
    {
        var copy = Path.Combine(_temp, "data");
        foreach (var file in Directory.EnumerateFiles(Data, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(Data, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        var record = Path.Combine(copy, "akita", "sdk34", "TEE_RSA_BASE+IMEI.json");
        File.WriteAllText(record, File.ReadAllText(record).Replace("351163520096216", "351163520096224", StringComparison.Ordinal));

        var (exitCode, output, _) = await Run("attestation", "conformance", copy);
        Assert.Equal(1, exitCode);
        Assert.Equal("20 passed, 1 failed", Lines(output)[^1]);
        var failure = Assert.Single(Lines(output), l => l.StartsWith("FAIL", StringComparison.Ordinal));
        Assert.Contains("attestationIdSecondImei", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_RealChainAtItsCreationTimeWithItsChallenge_PrintsTheRecordExitZero()
    {
        var (exitCode, output, error) = await Run("attestation", "verify", PixelWithImei, "--at", PixelCreatedAt, "--challenge", "Y2hhbGxlbmdl");
        Assert.True(exitCode == 0, output + error);
        var verdict = JsonNode.Parse(output)!;
        Assert.True((bool)verdict["verified"]!);
        Assert.Equal("TRUSTED_ENVIRONMENT", (string?)verdict["attestationSecurityLevel"]);
        Assert.Equal("Y2hhbGxlbmdl", (string?)verdict["attestationChallenge"]);
        Assert.Equal("UNVERIFIED", (string?)verdict["verifiedBootState"]);
        Assert.False((bool)verdict["deviceLocked"]!);
        Assert.Equal("351163520096208", (string?)verdict["attestationIdImei"]);
        Assert.Equal("351163520096216", (string?)verdict["attestationIdSecondImei"]);
        Assert.Equal("google", (string?)verdict["brand"]);
        Assert.Equal("Pixel 8a", (string?)verdict["model"]);
        using var leaf = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(
            File.ReadAllText(PixelWithImei).Split("-----")[2].Trim()));
        Assert.Equal(Convert.ToBase64String(leaf.PublicKey.ExportSubjectPublicKeyInfo()), (string?)verdict["publicKey"]);
        Assert.Equal("1727389885676", (string?)verdict["record"]!["softwareEnforced"]!["creationDateTime"]);
    }

    [Theory]
    [InlineData("ChallengeMismatch", "--at", PixelCreatedAt, "--challenge", "b3RoZXI=")]
    [InlineData("ImeiMismatch", "--at", PixelCreatedAt, "--imei", "351163520096208", "--imei", "490154203237518")]
    [InlineData("VerifiedBootState", "--at", PixelCreatedAt, "--require-verified-boot")]
    [InlineData("Expired", "--at", "2025-06-01T00:00:00Z")] // a remotely provisioned chain outlives nothing
    public async Task Verify_ChainThatFailsAPolicy_PrintsTheReasonExitOne(string failure, params string[] options)
    {
        var (exitCode, output, _) = await Run(["attestation", "verify", PixelWithImei, .. options]);
        Assert.Equal(1, exitCode);
        var verdict = JsonNode.Parse(output)!;
        Assert.False((bool)verdict["verified"]!);
        Assert.Equal(failure, (string?)verdict["failure"]);
    }

    [Fact]
    public async Task Verify_SoftwareChain_IsRefusedUnlessSoftwareIsAccepted()
    {
        var marlin = Path.Combine(Data, "marlin", "sdk29", "TEE_EC_NONE.pem");
        var (refused, output, _) = await Run("attestation", "verify", marlin, "--at", "2019-10-29T00:21:52Z");
        Assert.Equal(1, refused);
        Assert.Equal("SecurityLevelTooLow", (string?)JsonNode.Parse(output)!["failure"]);
        var (accepted, _, _) = await Run("attestation", "verify", marlin, "--at", "2019-10-29T00:21:52Z", "--min-level", "Software");
        Assert.Equal(0, accepted);
    }

    [Fact]
    public async Task Verify_TestAuthorityChain_IsTrustedOnlyWithItsRootAndRefusedWhenRevoked()
    {
        using var authority = AttestationAuthority.Create(TimeProvider.System);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var chain = authority.Issue(new AttestationRequest(key.ExportSubjectPublicKeyInfo(), [1, 2, 3]) { Imei = "490154203237518" });
        var chainFile = Path.Combine(_temp, "chain.pem");
        var rootFile = Path.Combine(_temp, "root.pem");
        var revokedFile = Path.Combine(_temp, "status.json");
        File.WriteAllText(chainFile, AttestationPem.Write(chain));
        File.WriteAllText(rootFile, AttestationPem.Write([chain[^1]]));
        File.WriteAllText(revokedFile, new JsonObject
        {
            ["entries"] = new JsonObject { [authority.IntermediateSerialHex] = new JsonObject { ["status"] = "REVOKED", ["reason"] = "KEY_COMPROMISE" } },
        }.ToJsonString());

        var (untrusted, output, _) = await Run("attestation", "verify", chainFile);
        Assert.Equal(1, untrusted);
        Assert.Equal("UntrustedRoot", (string?)JsonNode.Parse(output)!["failure"]);

        var (trusted, trustedOutput, _) = await Run("attestation", "verify", chainFile, "--root", rootFile, "--challenge", "AQID", "--imei", "490154203237518", "--require-verified-boot");
        Assert.Equal(0, trusted);
        Assert.Equal("490154203237518", (string?)JsonNode.Parse(trustedOutput)!["attestationIdImei"]);

        var (revoked, revokedOutput, _) = await Run("attestation", "verify", chainFile, "--root", rootFile, "--status-list", revokedFile);
        Assert.Equal(1, revoked);
        Assert.Equal("Revoked", (string?)JsonNode.Parse(revokedOutput)!["failure"]);
    }

    [Fact]
    public async Task Verify_RootGivenAsThePublicKeyTheAuthorityCommandWrites_IsTrusted()
    {
        var (authorityFile, rootFile) = (Path.Combine(_temp, "authority.pem"), Path.Combine(_temp, "root-key.pem"));
        Assert.Equal(0, (await Run("attestation", "authority", authorityFile, rootFile)).Item1);
        using var authority = AttestationAuthority.ImportPem(File.ReadAllText(authorityFile), TimeProvider.System);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var chainFile = Path.Combine(_temp, "chain.pem");
        File.WriteAllText(chainFile, AttestationPem.Write(authority.Issue(AttestationRequest.ForPhone(key.ExportSubjectPublicKeyInfo(), [1, 2, 3], ["490154203237518"]))));

        var (code, output, error) = await Run("attestation", "verify", chainFile, "--root", rootFile, "--challenge", "AQID", "--imei", "490154203237518");
        Assert.True(code == 0, error + output);

        File.WriteAllText(rootFile, File.ReadAllText(authorityFile)); // the authority itself, private key and all: not a root file
        var (refused, _, refusal) = await Run("attestation", "verify", chainFile, "--root", rootFile);
        Assert.Equal(2, refused);
        Assert.Contains("PRIVATE KEY", refusal);
    }

    [Fact]
    public async Task Verify_UnusableInput_SaysWhyInOneLineExitTwo()
    {
        var notPem = Path.Combine(_temp, "notes.txt");
        File.WriteAllText(notPem, "hello");
        var badStatus = Path.Combine(_temp, "status.json");
        File.WriteAllText(badStatus, "[]");

        var cases = new (string[] Args, string Message)[]
        {
            (["attestation", "verify", Path.Combine(_temp, "missing.pem")], "cannot read"),
            (["attestation", "verify", notPem], "is not a PEM certificate chain"),
            (["attestation", "verify", PixelWithImei, "--at", "yesterday"], "is not an instant"),
            (["attestation", "verify", PixelWithImei, "--challenge", "not base64!"], "must be base64"),
            (["attestation", "verify", PixelWithImei, "--status-list", badStatus], "is not an attestation status list"),
            (["attestation", "conformance", Path.Combine(_temp, "nowhere")], "is not a folder"),
        };
        foreach (var (args, message) in cases)
        {
            var (exitCode, output, error) = await Run(args);
            Assert.Equal(2, exitCode);
            Assert.Empty(output);
            var line = Assert.Single(Lines(error));
            Assert.StartsWith("lien: ", line, StringComparison.Ordinal);
            Assert.Contains(message, line, StringComparison.Ordinal);
        }
    }
}
