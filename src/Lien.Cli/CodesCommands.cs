using System.CommandLine;
using System.Globalization;
using Lien.Protocol.Codes;

namespace Lien.Cli;

/// <summary><c>lien codes …</c>: offline unlock code tools (OpenPAYGO Token).</summary>
internal static class CodesCommands
{
    // Exit codes: 0 all good, 1 the check or the token failed, 2 the input could not be used at all.
    private const int Failed = 1;
    private const int BadInput = 2;

    public static Command Create()
    {
        var codes = new Command("codes", "Offline unlock codes (OpenPAYGO Token)");
        codes.Subcommands.Add(Conformance());
        codes.Subcommands.Add(Decode());
        return codes;
    }

    private static Command Conformance()
    {
        var file = new Argument<FileInfo>("file")
        {
            Description = "Encoder vectors (test_tokens.jsonl) or a decoder scenario (decoder_scenario.json)",
        };
        var command = new Command("conformance", "Check this implementation against an OpenPAYGO conformance file; exits 1 if any entry fails") { file };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var path = parseResult.GetValue(file)!.FullName;
            string content;
            try
            {
                content = File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"lien: cannot read {path}: {e.Message}");
                return BadInput;
            }

            ConformanceReport report;
            try
            {
                report = TokenConformance.Check(content);
            }
            catch (FormatException e)
            {
                error.WriteLine($"lien: {path} is not an OpenPAYGO conformance file: {e.Message}");
                return BadInput;
            }

            foreach (var failure in report.Failures) output.WriteLine(failure);
            output.WriteLine($"{report.Passed} passed, {report.Failed} failed");
            return report.Failed == 0 ? 0 : Failed;
        });
        return command;
    }

    private static Command Decode()
    {
        var token = new Argument<string>("token") { Description = "The token as typed on the keypad" };
        var key = new Option<string>("--key") { Description = "The device's 16-byte secret, 32 hexadecimal characters", Required = true };
        var startingCode = new Option<long>("--starting-code") { Description = "The device's 9-digit starting code", Required = true };
        var count = new Option<int>("--count") { Description = "The device's token count; every count up to it is taken as used" };
        var restricted = new Option<bool>("--restricted") { Description = "The keypad has the keys 1-4 only" };
        var command = new Command("decode", "Show what a device would make of a token; exits 1 unless it would accept it")
        {
            token, key, startingCode, count, restricted,
        };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            if (!SipHashKey.TryFromHex(parseResult.GetValue(key), out var secret))
            {
                error.WriteLine("lien: --key must be 32 hexadecimal characters (16 bytes).");
                return BadInput;
            }
            var code = parseResult.GetValue(startingCode);
            var deviceCount = parseResult.GetValue(count);
            if (code is < 0 or > OpenPaygoToken.MaxStartingCode || deviceCount < 0)
            {
                error.WriteLine("lien: --starting-code must have at most 9 digits and --count must not be negative.");
                return BadInput;
            }

            var device = new TokenDevice(secret, code, parseResult.GetValue(restricted));
            var (result, state) = TokenDecoder.Decode(device, TokenDecoderState.Initial(deviceCount), parseResult.GetValue(token));
            output.WriteLine(result.Status == TokenStatus.Ok
                ? string.Create(CultureInfo.InvariantCulture,
                    $"OK {TokenConformance.TypeName(result.Type!.Value)} value {result.Value} at count {result.Count}; device count {deviceCount} -> {state.Count}")
                : TokenConformance.StatusName(result.Status));
            return result.Status == TokenStatus.Ok ? 0 : Failed;
        });
        return command;
    }
}
