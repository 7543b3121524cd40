using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lien.Server.Tests;

/// <summary>
/// Numeric settings read at start (<c>Lien:Sqlite:MinThreads</c>, default 16; <c>Lien:ApiKeys:CacheSeconds</c>, default 5):
/// a value that cannot work stops the start with one line naming it, instead of a 500 on some later request.
/// </summary>
public sealed class StartSettingTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "lien-start-setting-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, true);
    }

    [Theory]
    [InlineData("Lien:Sqlite:MinThreads", "0", "must be a whole number from 1 to 1024")]
    [InlineData("Lien:Sqlite:MinThreads", "1025", "must be a whole number from 1 to 1024")]
    [InlineData("Lien:Sqlite:MinThreads", "sixteen", "must be a whole number from 1 to 1024")]
    [InlineData("Lien:Sqlite:MinThreads", "-4", "must be a whole number from 1 to 1024")]
    [InlineData("Lien:ApiKeys:CacheSeconds", "61", "must be a whole number of seconds from 0 to 60")]
    [InlineData("Lien:ApiKeys:CacheSeconds", "five", "must be a whole number of seconds from 0 to 60")]
    [InlineData("Lien:ApiKeys:CacheSeconds", "-1", "must be a whole number of seconds from 0 to 60")]
    [InlineData("Lien:ApiKeys:CacheSeconds", "2.5", "must be a whole number of seconds from 0 to 60")]
    public async Task Start_SettingThatCannotWork_ExitsWithOneLineNamingIt(string setting, string value, string message)
    {
        var (code, _, stderr) = await ServerProcess.RunAsync(["--urls", "http://127.0.0.1:0"],
            new Dictionary<string, string> { ["Lien__DataDir"] = _dataDir, [setting.Replace(":", "__")] = value, ["Lien__WarmUp"] = "false" });
        Assert.Equal(1, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains($"{setting} '{value}' {message}", line);
    }
}

/// <summary>
/// Settings files are read once: reloading them on change would watch the content root and every folder under it, the
/// default data folder (and its SQLite log, written by every payment) among them.
/// </summary>
public sealed class SettingsFilesTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public void SettingsFiles_ReadOnce_NotWatched()
    {
        var root = Assert.IsAssignableFrom<IConfigurationRoot>(server.Services.GetRequiredService<IConfiguration>());
        var files = root.Providers.OfType<FileConfigurationProvider>().ToList();
        Assert.Contains(files, f => f.Source.Path == "appsettings.json");
        Assert.All(files, f => Assert.False(f.Source.ReloadOnChange, $"{f.Source.Path} is watched for changes"));
    }
}
