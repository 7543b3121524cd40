namespace Lien.Server.Tests.Storage;

/// <summary><c>Lien:Sqlite:MinThreads</c> (default 16): a value that cannot work stops the start with one line.</summary>
public sealed class MinThreadsSettingTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "lien-min-threads-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, true);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1025")]
    [InlineData("sixteen")]
    [InlineData("-4")]
    public async Task Start_MinThreadsThatCannotWork_ExitsWithOneLineNamingIt(string value)
    {
        var (code, _, stderr) = await ServerProcess.RunAsync(["--urls", "http://127.0.0.1:0"],
            new Dictionary<string, string> { ["Lien__DataDir"] = _dataDir, ["Lien__Sqlite__MinThreads"] = value, ["Lien__WarmUp"] = "false" });
        Assert.Equal(1, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains($"Lien:Sqlite:MinThreads '{value}' must be a whole number from 1 to 1024", line);
    }
}
