using Lien.Tests.Codes;

namespace Lien.Cli.Tests.Codes;

public sealed class CodesCommandsTests : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), $"lien-cli-tests-{Guid.NewGuid():N}");

    public CodesCommandsTests() => Directory.CreateDirectory(_temp);

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static async Task<(int ExitCode, string[] Lines)> Run(params string[] args)
    {
        using var output = new StringWriter();
        var exitCode = await LienCli.RunAsync(args, output, output);
        return (exitCode, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task Conformance_PublishedVectors_AllPassExitZero()
    {
        var (exitCode, lines) = await Run("codes", "conformance", ConformanceFiles.Vectors);

        Assert.Equal(0, exitCode);
        Assert.Equal("80 passed, 0 failed", lines[^1]);
    }

    [Fact]
    public async Task Conformance_PublishedScenario_AllStepsPassExitZero()
    {
        var (exitCode, lines) = await Run("codes", "conformance", ConformanceFiles.Scenario);

        Assert.Equal(0, exitCode);
        Assert.Equal("46 passed, 0 failed", lines[^1]);
    }

    [Fact]
    public async Task Conformance_VectorWithWrongToken_ListsItAndExitsNonZero()
    {
        var lines = File.ReadAllLines(ConformanceFiles.Vectors);
        lines[4] = lines[4].Replace("\"639704012\"", "\"639704013\"", StringComparison.Ordinal);
        var corrupted = Path.Combine(_temp, "corrupted.jsonl");
        File.WriteAllLines(corrupted, lines);

        var (exitCode, output) = await Run("codes", "conformance", corrupted);

        Assert.NotEqual(0, exitCode);
        Assert.Equal("79 passed, 1 failed", output[^1]);
        var failure = Assert.Single(output[..^1]);
        Assert.StartsWith("line 5 ", failure, StringComparison.Ordinal);
        Assert.Contains("expected token 639704013 new_count 2, got token 639704012 new_count 2", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Conformance_ScenarioStepWithWrongStatus_ListsItAndExitsNonZero()
    {
        var scenario = File.ReadAllText(ConformanceFiles.Scenario);
        var corrupted = Path.Combine(_temp, "corrupted.json");
        // The first step is the starting code, which a device refuses as used; claim it matches nothing instead.
        File.WriteAllText(corrupted, ReplaceFirst(scenario, "\"ALREADY_USED\"", "\"INVALID\""));

        var (exitCode, output) = await Run("codes", "conformance", corrupted);

        Assert.NotEqual(0, exitCode);
        Assert.Equal(["step 1 (token 123456789): expected INVALID, got ALREADY_USED", "45 passed, 1 failed"], output);
    }

    [Fact]
    public async Task Conformance_MissingFile_PlainMessageExitTwo()
    {
        var missing = Path.Combine(_temp, "nope.jsonl");

        var (exitCode, output) = await Run("codes", "conformance", missing);

        Assert.Equal(2, exitCode);
        var message = Assert.Single(output);
        Assert.StartsWith($"lien: cannot read {missing}", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"key_hex\": \"00\", \"steps\": []}")]
    [InlineData("{\"serial_number\": \"X\", \"count\": \"one\"}")]
    [InlineData("")]
    public async Task Conformance_MalformedFile_PlainMessageExitTwo(string content)
    {
        var path = Path.Combine(_temp, "bad.json");
        File.WriteAllText(path, content);

        var (exitCode, output) = await Run("codes", "conformance", path);

        Assert.Equal(2, exitCode);
        var message = Assert.Single(output);
        Assert.StartsWith($"lien: {path} is not an OpenPAYGO conformance file:", message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decode_FreshDeviceSetTimeToken_PrintsWhatItWouldApply()
    {
        var (exitCode, output) = await Run("codes", "decode", "--key", "a29ab82edc5fbbc41ec9530f6dac86b1", "--starting-code", "123456789", "932267790");

        Assert.Equal(0, exitCode);
        Assert.Equal(["OK SET_TIME value 1 at count 3; device count 0 -> 3"], output);
    }

    [Fact]
    public async Task Decode_DeviceAlreadyPastToken_AlreadyUsedExitOne()
    {
        var (exitCode, output) = await Run("codes", "decode", "--key", "a29ab82edc5fbbc41ec9530f6dac86b1", "--starting-code", "123456789", "--count", "5", "932267790");

        Assert.Equal(1, exitCode);
        Assert.Equal(["ALREADY_USED"], output);
    }

    [Fact]
    public async Task Decode_ShortKey_PlainMessageExitTwo()
    {
        var (exitCode, output) = await Run("codes", "decode", "--key", "a29a", "--starting-code", "123456789", "932267790");

        Assert.Equal(2, exitCode);
        Assert.Equal(["lien: --key must be 32 hexadecimal characters (16 bytes)."], output);
    }

    private static string ReplaceFirst(string text, string what, string with)
    {
        var at = text.IndexOf(what, StringComparison.Ordinal);
        return string.Concat(text.AsSpan(0, at), with, text.AsSpan(at + what.Length));
    }
}
