using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace Lien.Server.Api;

/// <summary>
/// A request ASP.NET Core could not bind — JSON that does not parse or holds a wrong type, a query value of the wrong
/// form, a body that is missing, not JSON or too large — answered as a 4xx problem naming the field at fault, in the
/// API's own words. The framework's messages name internal types (PostPayment, Nullable`1[System.Int64]); these never
/// do, and read the same in every environment.
/// </summary>
internal sealed partial class BadInputHandler(IProblemDetailsService problems) : IExceptionHandler
{
    private sealed record Answer(int Status, string Title, string Detail, string? Field = null);

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (Describe(http, exception) is not { } answer) return false;
        http.Response.StatusCode = answer.Status;
        ProblemDetails problem = answer.Field is null
            ? new ProblemDetails()
            : new HttpValidationProblemDetails(new Dictionary<string, string[]> { [answer.Field] = [answer.Detail] });
        (problem.Status, problem.Title, problem.Detail) = (answer.Status, answer.Title, answer.Detail);
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem });
    }

    // Only what the framework throws while binding: a JsonException from a handler's own reading (a stored row) is a
    // fault of the server's, not of the request.
    private static Answer? Describe(HttpContext http, Exception exception) => exception switch
    {
        BadHttpRequestException { InnerException: JsonException json } => Body(http, json),
        BadHttpRequestException { StatusCode: 413 } => new(413, "Request body too large", TooLarge(http)),
        BadHttpRequestException { StatusCode: 415 } => new(415, "Unsupported media type", NotJson),
        BadHttpRequestException { StatusCode: 400 } => Parameter(http) ?? MissingBody(http)
            ?? new(400, "Bad request", "The request could not be read: a parameter or the body is not what this endpoint takes."),
        BadHttpRequestException bad => new(bad.StatusCode, "Bad request", "The request could not be read."),
        _ => null,
    };

    public const string NotJson = "The request body must be JSON, sent with Content-Type: application/json.";

    public static string TooLarge(HttpContext http) => http.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is { } max
        ? $"The request body is larger than the {max} bytes this server reads."
        : "The request body is larger than this server reads.";

    // The JSON body: a syntax error (the reader's own exception, a JsonException, is inside) or a value of the wrong type.
    private static Answer Body(HttpContext http, JsonException json)
    {
        var field = FieldOf(json.Path);
        var where = field is null ? "" : $" at {field}";
        if (json.InnerException is JsonException syntax)
        {
            var why = Shorten(ReaderPosition().Replace(syntax.Message, ""), 240);
            return new(400, "Malformed JSON", $"The request body is not well-formed JSON{where} (line {json.LineNumber + 1}, byte {json.BytePositionInLine + 1}): {why}", field);
        }
        if (field is null)
            return new(400, "Invalid body", $"The request body must be {Expected(RequestType(http)) ?? "a JSON object"}.");
        if (json.Message.StartsWith("Duplicate property", StringComparison.Ordinal))
            return new(400, "The request has invalid fields", $"{field} appears more than once in the request body.", field);
        var expected = Expected(TypeAt(RequestType(http), json.Path!));
        return new(400, "The request has invalid fields", expected is null ? $"{field} is not valid here." : $"{field} must be {expected}.", field);
    }

    // A route or query value the framework could not convert: found again by trying each simple parameter of the handler.
    private static Answer? Parameter(HttpContext http)
    {
        if (Endpoint(http)?.Metadata.GetMetadata<MethodInfo>() is not { } handler) return null;
        var route = http.Features.Get<IExceptionHandlerFeature>()?.RouteValues;
        foreach (var p in handler.GetParameters())
        {
            var type = Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType;
            if (p.Name is not { } name || !IsSimple(type)) continue;
            var raw = route?.TryGetValue(name, out var r) == true ? r as string : http.Request.Query[name].FirstOrDefault();
            if (raw is not null && !Parses(raw, type))
                return new(400, "The request has invalid fields", $"{name} must be {Expected(type, json: false)}.", name);
        }
        return null;
    }

    private static Answer? MissingBody(HttpContext http) => RequestType(http) is { } type && type != typeof(string)
        ? new(400, "Missing body", $"This request needs a body: {Expected(type)}.")
        : null;

    private static Type? RequestType(HttpContext http) => Endpoint(http)?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;

    // The exception handler runs with the endpoint cleared; the feature keeps the one that threw.
    private static Endpoint? Endpoint(HttpContext http) => http.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint();

    private static bool IsSimple(Type t) => t.IsEnum || t == typeof(Guid) || t == typeof(int) || t == typeof(long) || t == typeof(bool)
        || t == typeof(DateOnly) || t == typeof(DateTimeOffset);

    private static bool Parses(string raw, Type t) => t switch
    {
        _ when t.IsEnum => Enum.TryParse(t, raw, ignoreCase: true, out _),
        _ when t == typeof(Guid) => Guid.TryParse(raw, out _),
        _ when t == typeof(int) => int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
        _ when t == typeof(long) => long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
        _ when t == typeof(bool) => bool.TryParse(raw, out _),
        _ when t == typeof(DateOnly) => DateOnly.TryParseExact(raw, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
        _ when t == typeof(DateTimeOffset) => DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, out _),
        _ => true,
    };

    /// <summary>What a value of <paramref name="type"/> looks like (in JSON or in a query), in the API's words; null when unknown.</summary>
    private static string? Expected(Type? type, bool json = true)
    {
        if (type is null) return null;
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t.IsEnum) return $"one of {string.Join(", ", Enum.GetNames(t))}";
        if (t == typeof(string)) return "a string of text";
        if (t == typeof(Guid)) return "a UUID";
        if (t == typeof(int) || t == typeof(long)) return json ? "a whole number (a JSON number, not a string)" : "a whole number";
        if (t == typeof(bool)) return "true or false";
        // ISO 8601 only: 01/11/2026 is 1 November to some and 11 January to others, so no other form is guessed at.
        if (t == typeof(DateOnly)) return "an ISO 8601 date, yyyy-MM-dd (such as 2026-11-01)";
        if (t == typeof(DateTimeOffset)) return "an ISO 8601 instant with its offset, such as 2026-03-01T09:00:00Z";
        if (ElementOf(t) is not null) return "an array";
        return "a JSON object";
    }

    // The type a JSON path ($.generate.frequency, $.installments[0].dueDate) leads to from the body's type.
    private static Type? TypeAt(Type? root, string path)
    {
        var type = root;
        foreach (Match m in PathSegment().Matches(path))
        {
            if (type is null) return null;
            type = Nullable.GetUnderlyingType(type) ?? type;
            type = m.Groups["index"].Success
                ? ElementOf(type)
                : type.GetProperty(m.Groups["name"].Success ? m.Groups["name"].Value : m.Groups["quoted"].Value,
                    BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)?.PropertyType;
        }
        return type;
    }

    private static Type? ElementOf(Type t) => t == typeof(string) ? null
        : t.IsArray ? t.GetElementType()
        : t.GetInterfaces().Append(t).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    // "$.installments[0].dueDate" → "installments[0].dueDate"; the root is no field.
    private static string? FieldOf(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return null;
        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        return Shorten(field);
    }

    private static string Shorten(string s, int max = 120) => s.Length <= max ? s : s[..max] + "…";

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\['(?<quoted>(?:[^']|'')*)'\]|\[(?<index>\d+)\]")]
    private static partial Regex PathSegment();

    // The reader's message ends with where it was; the detail says that in its own words.
    [GeneratedRegex(@"\s*(Path: .*)?\s*LineNumber: \d+ \| BytePositionInLine: \d+\.?\s*$")]
    private static partial Regex ReaderPosition();
}
