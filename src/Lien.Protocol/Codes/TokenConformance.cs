using System.Text.Json;

namespace Lien.Protocol.Codes;

/// <summary>The outcome of checking a conformance file: how many entries passed, and a line per failure.</summary>
public sealed record ConformanceReport(string Kind, int Passed, IReadOnlyList<string> Failures)
{
    public int Failed => Failures.Count;
}

/// <summary>
/// Checks this implementation against the OpenPAYGO conformance files (a copy lives in tests/conformance/openpaygo/):
/// encoder vectors (JSON lines) and a decoder scenario (one JSON object with <c>steps</c>).
/// Takes the file's text, so it stays free of I/O; malformed text raises <see cref="FormatException"/>.
/// </summary>
public static class TokenConformance
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    /// <summary>Checks <paramref name="content"/>, telling the two formats apart by their shape.</summary>
    public static ConformanceReport Check(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        return IsScenario(content) ? CheckScenario(content) : CheckVectors(content);
    }

    /// <summary>Encodes every vector line and compares token and new count.</summary>
    public static ConformanceReport CheckVectors(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var passed = 0;
        var failures = new List<string>();
        var lineNumber = 0;
        foreach (var line in content.Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var vector = Read<EncoderVector>(line, $"line {lineNumber}");
            var problem = VectorProblem(vector);
            if (problem is null) passed++;
            else failures.Add($"line {lineNumber} ({vector.SerialNumber} count {vector.Count} {vector.TokenType} {vector.ValueRaw?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}"
                + $"{(vector.RestrictedDigitSet ? " restricted" : "")}{(vector.ExtendedToken ? " extended" : "")}): {problem}");
        }
        if (passed + failures.Count == 0) throw new FormatException("The file holds no encoder vectors.");
        return new("encoder vectors", passed, failures);
    }

    /// <summary>Runs the scenario's tokens through one decoder in order and compares every outcome.</summary>
    public static ConformanceReport CheckScenario(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var scenario = Read<DecoderScenario>(content, "scenario");
        if (!SipHashKey.TryFromHex(scenario.KeyHex, out var key))
            throw new FormatException($"scenario: key_hex must be 32 hexadecimal characters; got '{scenario.KeyHex}'.");
        if (scenario.StartingCode is < 0 or > OpenPaygoToken.MaxStartingCode || scenario.InitialCount < 0)
            throw new FormatException("scenario: starting_code must have at most 9 digits and initial_count must not be negative.");

        var decoder = new TokenDecoder(new TokenDevice(key, scenario.StartingCode, scenario.RestrictedDigitSet), TokenDecoderState.Initial(scenario.InitialCount));
        var passed = 0;
        var failures = new List<string>();
        for (var i = 0; i < scenario.Steps.Count; i++)
        {
            var step = scenario.Steps[i];
            var expected = Describe(step.Status, step.Type, step.Value, step.Count);
            var result = decoder.Decode(step.Token);
            var got = Describe(StatusName(result.Status), result.Type is { } t ? TypeName(t) : null, result.Value, result.Count);
            if (expected == got) passed++;
            else failures.Add($"step {i + 1} (token {step.Token}): expected {expected}, got {got}");
        }
        return new("decoder scenario", passed, failures);
    }

    /// <summary>The conformance files' name for a token type (ADD_TIME, SET_TIME, DISABLE_PAYG, COUNTER_SYNC).</summary>
    public static string TypeName(TokenType type) => type switch
    {
        TokenType.AddTime => "ADD_TIME",
        TokenType.SetTime => "SET_TIME",
        TokenType.DisablePayg => "DISABLE_PAYG",
        TokenType.CounterSync => "COUNTER_SYNC",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>The conformance files' name for a decoder status (OK, ALREADY_USED, INVALID).</summary>
    public static string StatusName(TokenStatus status) => status switch
    {
        TokenStatus.Ok => "OK",
        TokenStatus.AlreadyUsed => "ALREADY_USED",
        TokenStatus.Invalid => "INVALID",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    private static string? VectorProblem(EncoderVector vector)
    {
        if (!SipHashKey.TryFromHex(vector.Key, out var key)) return $"key must be 32 hexadecimal characters; got '{vector.Key}'";
        if (ParseType(vector.TokenType) is not { } type) return $"unknown token_type '{vector.TokenType}'";
        IssuedToken issued;
        try
        {
            issued = TokenEncoder.Encode(new TokenDevice(key, vector.StartingCode, vector.RestrictedDigitSet), vector.Count, type, vector.ValueRaw ?? 0, vector.ExtendedToken);
        }
        catch (ArgumentException e)
        {
            return $"expected token {vector.Token} new_count {vector.NewCount}, got the error: {e.Message}";
        }
        return issued.Token == vector.Token && issued.NewCount == vector.NewCount
            ? null
            : $"expected token {vector.Token} new_count {vector.NewCount}, got token {issued.Token} new_count {issued.NewCount}";
    }

    private static TokenType? ParseType(string name)
    {
        foreach (var type in Enum.GetValues<TokenType>())
            if (TypeName(type) == name) return type;
        return null;
    }

    private static string Describe(string status, string? type, int? value, int? count) =>
        status == "OK" ? $"OK {type} value {value} at count {count}" : status;

    private static bool IsScenario(string content)
    {
        if (!content.TrimStart().StartsWith('{')) return false;
        try
        {
            using var document = JsonDocument.Parse(content);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("steps", out _);
        }
        catch (JsonException)
        {
            // Several objects one after another: JSON lines, i.e. encoder vectors.
            return false;
        }
    }

    private static T Read<T>(string json, string where)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Json) ?? throw new FormatException($"{where}: expected a JSON object, got null.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"{where}: not a valid entry ({e.Message})", e);
        }
    }

    private sealed record EncoderVector(
        string? SerialNumber, long StartingCode, string Key, int Count, string TokenType, int? ValueRaw,
        bool RestrictedDigitSet, bool ExtendedToken, int NewCount, string Token);

    private sealed record DecoderScenario(
        string KeyHex, long StartingCode, int InitialCount, bool RestrictedDigitSet, IReadOnlyList<ScenarioStep> Steps, string? Note = null);

    private sealed record ScenarioStep(string Token, string Status, int? Value, string? Type, int? Count);
}
