using System.Security.Claims;
using Lien.Server.Api;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Disputes;

internal sealed record ResolveDispute(string? Reason);

internal sealed record DisputeView(Guid Id, Guid PlanId, Guid DeviceId, DisputeKind Kind, string? TransactionReference, string? Text, string OpenedBy,
    DateTimeOffset OpenedAt, DateTimeOffset ExpiresAt, DisputeState State, DateTimeOffset? ClosedAt, string? ClosedBy, string? Resolution)
{
    public static DisputeView Of(Dispute d) => new(d.Id, d.PlanId, d.DeviceId, d.Kind, d.TransactionReference, d.Text, d.OpenedBy, d.OpenedAt, d.ExpiresAt,
        d.State, d.ClosedAt, d.ClosedBy, d.Resolution);
}

internal static class DisputeEndpoints
{
    public static IServiceCollection AddDisputes(this IServiceCollection services) => services.AddScoped<DisputeDesk>();

    public static IEndpointRouteBuilder MapDisputes(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/plans/{id:guid}/disputes", Open).WithTags("Disputes").RequireAuthorization(Roles.Operator)
            .WithDescription("Opens a dispute for the borrower: it holds a new lock back for at most the profile's disputeHoldDays.");
        var g = app.MapGroup("/v1/disputes").WithTags("Disputes");
        g.MapGet("", List).RequireAuthorization(Roles.Viewer);
        g.MapGet("/{id:guid}", Get).RequireAuthorization(Roles.Viewer);
        g.MapPost("/{id:guid}/resolve", Resolve).RequireAuthorization(Roles.Operator).WithDescription("Resolves an open dispute; a reason is required.");
        return app;
    }

    private static async Task<Results<Created<DisputeView>, ValidationProblem, ProblemHttpResult>> Open(Guid id, DisputeRequest body, ClaimsPrincipal user,
        DisputeDesk desk, CancellationToken ct)
    {
        var errors = body.Validate();
        if (errors.Any) return errors.Problem();
        return Map(await desk.OpenForPlanAsync(user.LenderId(), id, body, user.Actor(), ct), d => TypedResults.Created($"/v1/disputes/{d.Id}", DisputeView.Of(d)));
    }

    private static async Task<Results<Ok<DisputeView>, ValidationProblem, ProblemHttpResult>> Resolve(Guid id, ResolveDispute body, ClaimsPrincipal user,
        DisputeDesk desk, CancellationToken ct)
    {
        var errors = new Errors().Text(body.Reason, "reason", 500, required: true, lines: true);
        if (errors.Any) return errors.Problem();
        return Map(await desk.ResolveAsync(user.LenderId(), id, body.Reason!, user.Actor(), ct), d => TypedResults.Ok(DisputeView.Of(d)));
    }

    private static async Task<Results<Ok<Page<DisputeView>>, ValidationProblem, ProblemHttpResult>> List(ClaimsPrincipal user, LienDb db, DisputeState? state,
        Guid? planId, int? limit, string? after, CancellationToken ct)
    {
        var errors = new Errors().Text(after, "after", 64)
            .Check(state is null || Enum.IsDefined(state.Value), "state", $"state must be one of {string.Join(", ", Enum.GetNames<DisputeState>())}.");
        if (errors.Any) return errors.Problem();
        if (!Paging.TryCursor(after, out var cursor)) return TypedResults.Problem(statusCode: 400, title: "Bad cursor", detail: "after must be the cursor returned as next by the previous page.");
        var lenderId = user.LenderId();
        var q = db.Set<Dispute>().AsNoTracking().Where(d => d.LenderId == lenderId);
        if (state is { } s) q = q.Where(d => d.State == s);
        if (planId is { } p) q = q.Where(d => d.PlanId == p);
        if (cursor is { } c) q = q.Where(d => d.Id.CompareTo(c) > 0);
        var n = Paging.Limit(limit);
        var rows = await q.OrderBy(d => d.Id).Take(n + 1).ToListAsync(ct);
        var items = rows.Take(n).Select(DisputeView.Of).ToList();
        return TypedResults.Ok(new Page<DisputeView>(items, rows.Count > n ? Paging.Cursor(items[^1].Id) : null));
    }

    private static async Task<Results<Ok<DisputeView>, ProblemHttpResult>> Get(Guid id, ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var d = await db.Set<Dispute>().AsNoTracking().FirstOrDefaultAsync(x => x.Id == id && x.LenderId == lenderId, ct);
        return d is null ? Problems.NotFound("No such dispute.") : TypedResults.Ok(DisputeView.Of(d));
    }

    /// <summary>An outcome as the API answers it (the device API's dispute call answers the same way).</summary>
    public static Results<T, ValidationProblem, ProblemHttpResult> Map<T>(DisputeOutcome outcome, Func<Dispute, T> done) where T : IResult => outcome switch
    {
        DisputeOutcome.Done(var d) => done(d),
        DisputeOutcome.Refused r => TypedResults.Problem(statusCode: r.Status, title: r.Title, detail: r.Detail),
        var other => throw new InvalidOperationException($"Unexpected dispute outcome {other}."),
    };
}
