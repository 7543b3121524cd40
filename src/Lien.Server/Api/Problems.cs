using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;

namespace Lien.Server.Api;

/// <summary>
/// Every error is an RFC 9457 problem with a detail. Malformed input (bad JSON, a wrong type, a body that is not there)
/// is a 400 naming what was wrong (<see cref="BadInputHandler"/>), in every environment; only a real fault is a 500, and
/// it says nothing of the internals.
/// </summary>
internal static class Problems
{
    public static IServiceCollection AddProblems(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Instance ??= c.HttpContext.Request.Path;
            c.ProblemDetails.Type ??= $"https://httpstatuses.io/{c.ProblemDetails.Status}";
            c.ProblemDetails.Detail ??= DefaultDetail(c.ProblemDetails.Status ?? c.HttpContext.Response.StatusCode, c.HttpContext);
        });
        // A request the framework cannot bind throws (in Development it does by default), so BadInputHandler words the
        // answer the same in every environment instead of a bare 400 here and internal type names there.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<BadInputHandler>();
        return services;
    }

    // What the status alone says, for the answers ASP.NET Core writes itself (no route, no key, the wrong role, a body
    // too large or not JSON).
    private static string DefaultDetail(int status, HttpContext http) => status switch
    {
        400 => "The request could not be read.",
        401 => "This needs a lender API key (Authorization: Bearer lien_…); the one given, if any, is malformed, unknown or revoked.",
        403 => "This API key's role may not do this.",
        404 => "There is nothing at this address.",
        405 => $"This address does not accept {http.Request.Method}.",
        413 => BadInputHandler.TooLarge(http),
        415 => BadInputHandler.NotJson,
        _ => ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase + "." : "The request failed.",
    };

    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem(statusCode: 404, title: "Not found", detail: what);

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: 409, title: "Conflict", detail: detail);

    public static ProblemHttpResult Unprocessable(string title, string detail) =>
        TypedResults.Problem(statusCode: 422, title: title, detail: detail);
}

/// <summary>Collects field errors for a validation problem.</summary>
internal sealed class Errors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public Errors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
        return this;
    }

    public Errors Check(bool ok, string field, string message) => ok ? this : Add(field, message);

    /// <summary>
    /// A text field or query parameter: at most <paramref name="max"/> characters and no control characters — PostgreSQL
    /// cannot store NUL at all, and the others corrupt CSV exports, logs and lock screens. Free text
    /// (<paramref name="lines"/>: the reasons people write) may hold line breaks and tabs.
    /// </summary>
    public Errors Text(string? value, string field, int max, bool required = false, bool lines = false)
    {
        if (string.IsNullOrEmpty(value)) return required ? Add(field, $"{field} is required.") : this;
        if (value.Length > max) return Add(field, $"{field} is at most {max} characters.");
        if (ControlCharacter(value, field, lines) is { } problem) return Add(field, problem);
        return required && string.IsNullOrWhiteSpace(value) ? Add(field, $"{field} is required.") : this;
    }

    public Errors Url(string? value, string field)
    {
        if (string.IsNullOrEmpty(value)) return this;
        if (ControlCharacter(value, field, lines: false) is { } problem) return Add(field, problem);
        return Uri.TryCreate(value, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp) && value.Length <= 500
            ? this
            : Add(field, $"{field} must be an absolute http(s) URL of at most 500 characters.");
    }

    /// <summary>Why <paramref name="value"/> cannot be stored as text (its first control character), or null when it can.</summary>
    public static string? ControlCharacter(string value, string field, bool lines)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c) && !(lines && c is '\n' or '\r' or '\t'))
                return $"{field} must not contain control characters{(lines ? " other than line breaks and tabs" : "")}; character {i + 1} is U+{(int)c:X4}.";
        }
        return null;
    }

    public ValidationProblem Problem() =>
        TypedResults.ValidationProblem(_errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()),
            title: "The request has invalid fields", detail: string.Join(" ", _errors.Values.SelectMany(v => v)));
}
