using System.Text;
using Lien.Protocol;
using Lien.Server.AgentApi;
using Lien.Server.Api;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lien.Server.LienCheck;

internal sealed record LienCheckView(string Imei, LienStatus Status, string? Lender, string Explanation, DateTimeOffset CheckedAt);

internal static class LienCheckEndpoints
{
    public static IServiceCollection AddLienCheck(this IServiceCollection services) => services.AddScoped<LienRegister>();

    public static IEndpointRouteBuilder MapLienCheck(this IEndpointRouteBuilder app)
    {
        // Public, no key: a second-hand buyer checks a phone. Rate-limited per client address against walking IMEIs.
        app.MapGet("/v1/lien-check", Check).WithTags("Public").AllowAnonymous().RateLimitedByAddress(RateLimitPolicy.PublicPerAddress)
            .WithDescription("Whether a phone (by IMEI) is financed, released or unknown here, and the lender's name while it is financed. Nothing personal.");
        app.MapGet("/lien-check", Page).AllowAnonymous().RateLimitedByAddress(RateLimitPolicy.PublicPerAddress).ExcludeFromDescription();
        return app;
    }

    private static async Task<Results<Ok<LienCheckView>, ValidationProblem>> Check(string? imei, LienRegister register, TimeProvider time, CancellationToken ct)
    {
        if (Problem(imei) is { } problem) return new Errors().Add("imei", problem).Problem();
        var (status, lender) = await register.CheckAsync(imei!, ct);
        return TypedResults.Ok(new LienCheckView(imei!, status, lender, LienRegister.Explain(status, lender), time.GetUtcNow()));
    }

    // The same check as a small page with a form: no script, one GET.
    private static async Task<IResult> Page(string? imei, LienRegister register, CancellationToken ct)
    {
        var html = new StringBuilder("<p>Before you buy a used phone, check whether a lender still holds it. Dial <strong>*#06#</strong> on the phone to see its IMEI.</p>")
            .Append("<form method=\"get\" action=\"/lien-check\"><label for=\"imei\">IMEI</label> <input id=\"imei\" name=\"imei\" inputmode=\"numeric\" ")
            .Append("pattern=\"[0-9]{15}\" maxlength=\"15\" value=\"").Append(HtmlPage.Encode(imei is { Length: <= 15 } ? imei : "")).Append("\"> ")
            .Append("<button type=\"submit\">Check</button></form>");
        if (imei is null) return HtmlPage.Render("Lien check", html.ToString());
        if (Problem(imei) is { } problem)
        {
            html.Append("<p class=\"problem\" role=\"alert\">").Append(HtmlPage.Encode(problem)).Append("</p>");
            return HtmlPage.Render("Lien check", html.ToString(), StatusCodes.Status400BadRequest);
        }
        var (status, lender) = await register.CheckAsync(imei, ct);
        var css = status.ToString().ToLowerInvariant();
        html.Append("<p class=\"").Append(css).Append("\" role=\"status\"><strong>").Append(HtmlPage.Encode(imei)).Append(": ").Append(css)
            .Append(".</strong> ").Append(HtmlPage.Encode(LienRegister.Explain(status, lender))).Append("</p>");
        return HtmlPage.Render("Lien check", html.ToString());
    }

    // Checked before anything is read: short, plain digits, a Luhn-valid IMEI. The message never echoes a long or binary value.
    private static string? Problem(string? imei)
    {
        if (string.IsNullOrEmpty(imei)) return "imei is required: the phone's 15-digit IMEI (dial *#06# to see it).";
        if (imei.Length != 15 || !imei.All(char.IsAsciiDigit)) return "imei must be exactly 15 digits (dial *#06# on the phone to see it).";
        return Imei.Problem(imei);
    }
}
