using System.Globalization;
using System.Security.Claims;
using System.Text;
using Lien.Protocol;
using Lien.Server.AgentApi;
using Lien.Server.Api;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Certificates;

/// <summary>A plan's payoff certificate as the lender reads it.</summary>
internal sealed record CertificateView(Guid Id, Guid PlanId, Guid DeviceId, DateTimeOffset IssuedAt, string Kid, string Jws,
    PayoffCertificateClaims Claims, string PageUrl, string KeysUrl);

/// <summary>A certificate as anyone reads it: whether it verifies now with the lender's published keys, and what it says.</summary>
internal sealed record PublicCertificateView(bool Valid, string? Problem, PayoffCertificateClaims? Claims, string? Jws, string? KeysUrl);

internal sealed record VerifyCertificate(string? Jws);

internal static class CertificateEndpoints
{
    public static IServiceCollection AddCertificates(this IServiceCollection services) =>
        services.AddScoped<PayoffCertificates>()
            .AddScoped<IPayoffRelease>(sp => sp.GetRequiredService<PayoffCertificates>())
            .AddScoped<IRevokedKeyCertificates>(sp => sp.GetRequiredService<PayoffCertificates>());

    public static IEndpointRouteBuilder MapCertificates(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/plans/{planId:guid}/certificate", ForPlan).WithTags("Certificates").RequireAuthorization(Roles.Viewer)
            .WithDescription("The plan's payoff certificate (a JWS signed by the lender's key), issued when its device is released after payoff.");
        // Public: a buyer, a shop or a court checks a certificate with no key. Rate-limited per client address.
        var open = app.MapGroup("").WithTags("Public").AllowAnonymous();
        open.MapGet("/v1/certificates/{id:guid}", Public).RateLimitedByAddress(RateLimitPolicy.PublicPerAddress)
            .WithDescription("A payoff certificate, checked now against its lender's published keys.");
        open.MapPost("/v1/certificates/verify", Verify).RateLimitedByAddress(RateLimitPolicy.PublicPerAddress)
            .WithDescription("Checks any payoff certificate JWS against the published keys of the lender it names.");
        open.MapGet("/certificates/{id:guid}", Page).RateLimitedByAddress(RateLimitPolicy.PublicPerAddress).ExcludeFromDescription();
        return app;
    }

    private static async Task<Results<Ok<CertificateView>, ProblemHttpResult>> ForPlan(Guid planId, ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var c = await db.Set<PayoffCertificate>().AsNoTracking().FirstOrDefaultAsync(x => x.PlanId == planId && x.LenderId == lenderId, ct);
        if (c is null)
            return Problems.NotFound("This plan has no payoff certificate: one is issued when the device is released, at the end of the settlement hold after payoff.");
        var claims = PayoffCertificateClaims.ReadUnverified(c.Jws) ?? throw new InvalidOperationException($"Certificate {c.Id} cannot be read.");
        return TypedResults.Ok(new CertificateView(c.Id, c.PlanId, c.DeviceId, c.IssuedAt, c.Kid, c.Jws, claims, PageUrl(c.Id), KeysUrl(c.LenderId)));
    }

    private static async Task<Results<Ok<PublicCertificateView>, ProblemHttpResult>> Public(Guid id, LienDb db, PayoffCertificates certificates,
        CancellationToken ct)
    {
        var c = await db.Set<PayoffCertificate>().AsNoTracking().FirstOrDefaultAsync(x => x.Id == id, ct);
        if (c is null) return Problems.NotFound("No payoff certificate has this id.");
        var check = await certificates.CheckAsync(c.Jws, ct);
        return TypedResults.Ok(new PublicCertificateView(check.Valid, check.Problem, check.Claims, c.Jws, KeysUrl(c.LenderId)));
    }

    private static async Task<Results<Ok<PublicCertificateView>, ValidationProblem>> Verify(VerifyCertificate body, PayoffCertificates certificates,
        CancellationToken ct)
    {
        var errors = new Errors().Text(body.Jws, "jws", PayoffCertificateClaims.MaxLength, required: true);
        if (errors.Any) return errors.Problem();
        var jws = body.Jws!.Trim();
        var check = await certificates.CheckAsync(jws, ct);
        return TypedResults.Ok(new PublicCertificateView(check.Valid, check.Problem, check.Claims, jws,
            check.Claims is { } claims ? KeysUrl(claims.LenderId) : null));
    }

    // The printable page: what the certificate says, whether it verifies now, and how to verify it without Lien.
    private static async Task<IResult> Page(Guid id, LienDb db, PayoffCertificates certificates, CancellationToken ct)
    {
        var c = await db.Set<PayoffCertificate>().AsNoTracking().FirstOrDefaultAsync(x => x.Id == id, ct);
        if (c is null)
            return HtmlPage.Render("Payoff certificate", "<p class=\"problem\">No payoff certificate has this id. Check the address you were given.</p>",
                StatusCodes.Status404NotFound);
        var check = await certificates.CheckAsync(c.Jws, ct);
        var html = new StringBuilder();
        if (check.Claims is not { } claims)
        {
            html.Append("<p class=\"problem\"><strong>This certificate does not verify.</strong> ").Append(HtmlPage.Encode(check.Problem)).Append("</p>");
            return HtmlPage.Render("Payoff certificate", html.ToString());
        }
        html.Append("<p class=\"released\"><strong>Verified:</strong> signed by ").Append(HtmlPage.Encode(claims.LenderName))
            .Append("'s published key <code>").Append(HtmlPage.Encode(c.Kid)).Append("</code>. The phone below is paid off and released from its financing.</p>")
            .Append("<dl><dt>Lender</dt><dd>").Append(HtmlPage.Encode(claims.LenderName)).Append("</dd>");
        foreach (var imei in claims.Imeis) html.Append("<dt>IMEI</dt><dd>").Append(HtmlPage.Encode(imei)).Append("</dd>");
        html.Append("<dt>Plan reference</dt><dd>").Append(HtmlPage.Encode(claims.PlanReference)).Append("</dd>")
            .Append("<dt>Paid off on</dt><dd>").Append(claims.PaidOffOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append("</dd>")
            .Append("<dt>Released at</dt><dd>").Append(claims.ReleasedAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)).Append("</dd>")
            .Append("<dt>Certificate</dt><dd>").Append(claims.CertificateId).Append("</dd></dl>")
            .Append("<h2>Verify it yourself</h2><p>The certificate is a JWS (ES256). Check it with the lender's published keys, a JWK Set at <code>")
            .Append(HtmlPage.Encode(KeysUrl(c.LenderId))).Append("</code>, or send it to <code>POST /v1/certificates/verify</code>.</p><p><code>")
            .Append(HtmlPage.Encode(c.Jws)).Append("</code></p>")
            .Append("<p class=\"noprint\"><a href=\"/lien-check?imei=").Append(Uri.EscapeDataString(claims.Imeis[0]))
            .Append("\">Check this phone's lien status now</a></p>");
        return HtmlPage.Render("Payoff certificate", html.ToString());
    }

    private static string PageUrl(Guid id) => $"/certificates/{id}";

    private static string KeysUrl(Guid lenderId) => $"/v1/lenders/{lenderId}/keys";
}
