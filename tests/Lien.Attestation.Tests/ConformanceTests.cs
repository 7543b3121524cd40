namespace Lien.Attestation.Tests;

public class ConformanceTests
{
    private static readonly AttestationVerifier Google = new(AttestationTrustAnchors.Google);

    [Theory]
    [MemberData(nameof(AttestationFiles.RecordedChains), MemberType = typeof(AttestationFiles))]
    public void Verify_RealChainAtItsCreationTime_VerifiesAndParsesToItsRecord(string name)
    {
        var (passed, detail) = AttestationConformance.Check(AttestationFiles.Chain(name), AttestationConformance.ParseRecord(AttestationFiles.Record(name)), Google);
        Assert.True(passed, detail);
    }

    [Fact]
    public void Run_WholeFolder_PassesEveryRecordedChainAndRefusesBothInvalidOnes()
    {
        var cases = AttestationConformance.Run(AttestationFiles.TestData, Google, new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero));
        var run = cases.Where(c => !AttestationConformance.IsSkipped(c)).ToList();
        Assert.All(run, c => Assert.True(c.Passed, $"{c.Path}: {c.Detail}"));
        Assert.Equal(19 + 2, run.Count);
        Assert.Equal(2, run.Count(c => c.Path.StartsWith("invalid", StringComparison.Ordinal)));
    }
}
