using System.Security.Claims;
using Lien.Server.Api;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Audit;

internal sealed record AuditView(long Seq, DateTimeOffset At, string Actor, string Action, string Subject, string? Reason, string? Policy,
    string? Data, string Hash);
internal sealed record ChainCheck(long Checked, bool Intact, long? BrokenAt);

internal static class AuditEndpoints
{
    public static IServiceCollection AddAudit(this IServiceCollection services) => services.AddScoped<AuditTrail>();

    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/audit").WithTags("Audit").RequireAuthorization(Roles.Viewer);
        g.MapGet("", List);
        g.MapGet("/verify", Verify);
        return app;
    }

    private static async Task<Results<Ok<List<AuditView>>, ValidationProblem>> List(ClaimsPrincipal user, LienDb db, long? after, string? subject,
        int? limit, CancellationToken ct)
    {
        var errors = new Errors().Text(subject, "subject", 100);
        if (errors.Any) return errors.Problem();
        var lenderId = user.LenderId();
        var q = db.AuditEvents.AsNoTracking().Where(e => e.LenderId == lenderId && e.Seq > (after ?? 0));
        if (!string.IsNullOrEmpty(subject)) q = q.Where(e => e.Subject == subject);
        var rows = await q.OrderBy(e => e.Seq).Take(Api.Paging.Limit(limit))
            .Select(e => new AuditView(e.Seq, e.At, e.Actor, e.Action, e.Subject, e.Reason, e.Policy, e.Data, e.Hash)).ToListAsync(ct);
        return TypedResults.Ok(rows);
    }

    private static async Task<Ok<ChainCheck>> Verify(ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var (count, broken) = await AuditTrail.VerifyAsync(db, user.LenderId(), ct);
        return TypedResults.Ok(new ChainCheck(count, broken is null, broken));
    }
}
