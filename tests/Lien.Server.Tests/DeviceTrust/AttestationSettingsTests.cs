namespace Lien.Server.Tests.DeviceTrust;

/// <summary>Attestation settings that cannot work stop the server at start with one line, rather than answer 500 at the first enrollment.</summary>
public sealed class AttestationSettingsTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "lien-attestation-settings-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, true);
    }

    [Theory]
    [InlineData("Lien__Attestation__TrustedRoots", "/no/such/roots.pem", "Lien:Attestation:TrustedRoots")]
    [InlineData("Lien__Attestation__TrustedRoots", "empty", "holds no CERTIFICATE or PUBLIC KEY block")]
    [InlineData("Lien__Attestation__StatusListUrl", "not an address", "Lien:Attestation:StatusListUrl")]
    public async Task Start_SettingThatCannotWork_ExitsWithOneLineNamingIt(string key, string value, string expected)
    {
        Directory.CreateDirectory(_dataDir);
        if (value == "empty") File.WriteAllText(value = Path.Combine(_dataDir, "roots.pem"), "no PEM here\n");
        var (code, _, stderr) = await ServerProcess.RunAsync(["--urls", "http://127.0.0.1:0"],
            new Dictionary<string, string> { ["Lien__DataDir"] = _dataDir, [key] = value });
        Assert.Equal(1, code);
        Assert.Contains(expected, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
