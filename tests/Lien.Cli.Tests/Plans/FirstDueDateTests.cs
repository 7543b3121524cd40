namespace Lien.Cli.Tests.Plans;

/// <summary>
/// <c>lien plans create --first-due</c> takes an ISO 8601 date (yyyy-MM-dd) only: any other form is refused by the CLI
/// itself, with a plain message, before anything is sent (the server here is unreachable on purpose).
/// </summary>
public sealed class FirstDueDateTests
{
    private static async Task<(int ExitCode, string Error)> CreateAsync(string firstDue)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await LienCli.RunAsync(["plans", "create", "--device", Guid.NewGuid().ToString(), "--price", "30000", "--installments", "3",
            "--first-due", firstDue, "--server", "http://127.0.0.1:1", "--key", "lien_x"], output, error);
        return (code, error.ToString());
    }

    [Theory]
    [InlineData("01/11/2026")]
    [InlineData("11/01/2026")]
    [InlineData("2026-1-5")]
    [InlineData("2026-11-01T00:00")]
    [InlineData("1 November 2026")]
    [InlineData("2026-02-30")]
    public async Task FirstDue_NotAnIsoDate_RefusedWithTheFormat_NothingSent(string date)
    {
        var (code, error) = await CreateAsync(date);
        Assert.NotEqual(0, code);
        Assert.Contains($"--first-due must be an ISO 8601 date, yyyy-MM-dd (such as 2026-11-01); '{date}' is not.", error);
        Assert.DoesNotContain("cannot reach", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public async Task FirstDue_IsoDate_Accepted_ThenTheUnreachableServerIsTheOnlyProblem()
    {
        var (code, error) = await CreateAsync("2026-11-01");
        Assert.Equal(1, code);
        Assert.Contains("cannot reach", error);
        Assert.DoesNotContain("ISO 8601", error);
    }
}
