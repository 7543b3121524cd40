using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace Lien.Server.Tests.Lenders;

/// <summary>
/// <c>Lien.Server lenders create</c> as an operator runs it, in a process of its own: a mistake is one plain line and a
/// non-zero exit, a mistyped command writes nothing, and a master key that is not the database's makes no lender.
/// </summary>
public sealed class LenderCommandTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "lien-command-" + Guid.NewGuid().ToString("N"));

    private Dictionary<string, string> Settings(string? masterKey = null)
    {
        var settings = new Dictionary<string, string> { ["Lien__DataDir"] = _dataDir, ["Logging__LogLevel__Default"] = "Warning" };
        if (masterKey is not null) settings["Lien__MasterKey"] = masterKey;
        return settings;
    }

    private static string[] Create(string name, params string[] more) =>
        ["lenders", "create", "--name", name, "--currency", "KES", "--time-zone", "Africa/Nairobi", .. more];

    [Theory]
    [InlineData("Unknown option --colour", "lenders", "create", "--name", "X", "--currency", "KES", "--time-zone", "Africa/Nairobi", "--colour", "red")]
    [InlineData("'--name' has no value", "lenders", "create", "--currency", "KES", "--time-zone", "Africa/Nairobi", "--name")]
    [InlineData("currency must be an ISO 4217 code", "lenders", "create", "--name", "X", "--currency", "KSH", "--time-zone", "Africa/Nairobi")]
    [InlineData("--offline-allowance-hours must be a whole number", "lenders", "create", "--name", "X", "--currency", "KES", "--time-zone", "Africa/Nairobi", "--offline-allowance-hours", "many")]
    [InlineData("usage: lenders create", "lenders", "remove", "--name", "X")]
    public async Task LendersCreate_BadArguments_OneLineExit2AndNothingWritten(string expected, params string[] args)
    {
        var (code, output, error) = await ServerProcess.RunAsync(args, Settings());
        Assert.Equal(2, code);
        Assert.Contains(expected, Assert.Single(Lines(error)));
        Assert.Empty(output);
        Assert.False(Directory.Exists(_dataDir), "a data folder (database, master key) was made for a command that was refused");
    }

    [Fact]
    public async Task LendersCreate_MasterKeyNotTheDatabases_OneLineExit1AndNoLender()
    {
        // The first lender seals its signing key under the generated master.key.
        var (code, _, error) = await ServerProcess.RunAsync(Create("First Lender"), Settings());
        Assert.True(code == 0, error);

        (code, var output, error) = await ServerProcess.RunAsync(Create("Second Lender"), Settings(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));
        Assert.Equal(1, code);
        var line = Assert.Single(Lines(error));
        Assert.Contains("master key", line);
        Assert.DoesNotContain("Exception", error + output);
        Assert.Equal(["First Lender"], await LenderNamesAsync());

        (code, _, error) = await ServerProcess.RunAsync(Create("Second Lender"), Settings()); // the database's own key still works
        Assert.True(code == 0, error);
        Assert.Equal(["First Lender", "Second Lender"], await LenderNamesAsync());
    }

    [Fact]
    public async Task ServerStart_MasterKeyNotTheDatabases_OneLineExit1()
    {
        var (code, _, error) = await ServerProcess.RunAsync(Create("First Lender"), Settings());
        Assert.True(code == 0, error);
        var settings = Settings(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        settings["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ServerProcesses.FreePort()}";
        (code, var output, error) = await ServerProcess.RunAsync([], settings);
        Assert.Equal(1, code);
        Assert.Contains("master key", Assert.Single(Lines(error)), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Exception", error + output);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private async Task<List<string>> LenderNamesAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_dataDir, "lien.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"Name\" FROM \"Lenders\" ORDER BY \"CreatedAt\"";
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken)) names.Add(reader.GetString(0));
        return names;
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }
}
