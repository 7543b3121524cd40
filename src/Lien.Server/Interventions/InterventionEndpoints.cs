using System.Security.Claims;
using Lien.Protocol;
using Lien.Server.Api;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lien.Server.Interventions;

internal sealed record PromiseToPay(DateOnly? Until, string? Reason);
internal sealed record GoodwillUnlock(int? Hours, string? Reason);
internal sealed record StaffReason(string? Reason);

/// <summary>A staff action's result: the plan's holds and the lease the device now gets.</summary>
internal sealed record ActionView(Guid? PlanId, Guid DeviceId, LeaseMode Mode, DateTimeOffset? UnlockedUntil, Notice? Notice, DateOnly? PromisedUntil,
    DateTimeOffset? GoodwillUntil, DateTimeOffset? DisputeOpenedAt, DateTimeOffset? NextReviewAt);

internal static class InterventionEndpoints
{
    public static IServiceCollection AddInterventions(this IServiceCollection services) => services.AddScoped<StaffActions>();

    public static IEndpointRouteBuilder MapInterventions(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/plans/{id:guid}/promise-to-pay", Promise).WithTags("Staff actions").RequireAuthorization(Roles.Operator)
            .WithDescription("No lock before the end of `until` (at most the profile's promiseMaxDays ahead). A reason is required.");
        var d = app.MapGroup("/v1/devices/{id:guid}").WithTags("Staff actions");
        d.MapPost("/goodwill-unlock", Goodwill).RequireAuthorization(Roles.Operator)
            .WithDescription("Unlocked for `hours` (at most the profile's goodwillMaxHours); it locks again only after a lock warning. A reason is required.");
        d.MapPost("/lock", Lock).RequireAuthorization(Roles.Operator)
            .WithDescription("Locks now, ending a promise or goodwill unlock, only where the policy itself would lock; otherwise 409 saying why.");
        d.MapPost("/repossess", Repossess).RequireAuthorization(Roles.Operator)
            .WithDescription("The lender took the phone back: its plan closes. A reason is required.");
        d.MapPost("/restock", Restock).RequireAuthorization(Roles.Operator)
            .WithDescription("A repossessed phone goes into stock: its enrollment ends and it may be financed again on a new plan. A reason is required.");
        d.MapPost("/release", Release).RequireAuthorization(Roles.Admin)
            .WithDescription("Releases the device for good before payoff; its plan closes. Admin only; a reason is required.");
        return app;
    }

    private static async Task<Results<Ok<ActionView>, ValidationProblem, ProblemHttpResult>> Promise(Guid id, PromiseToPay body, ClaimsPrincipal user,
        StaffActions actions, CancellationToken ct)
    {
        var errors = Reason(body.Reason).Check(body.Until is not null, "until", "until must be a date (yyyy-MM-dd).");
        if (errors.Any) return errors.Problem();
        return Map(await actions.PromiseToPayAsync(user.LenderId(), id, body.Until!.Value, body.Reason!.Trim(), user.Actor(), ct));
    }

    private static async Task<Results<Ok<ActionView>, ValidationProblem, ProblemHttpResult>> Goodwill(Guid id, GoodwillUnlock body, ClaimsPrincipal user,
        StaffActions actions, CancellationToken ct)
    {
        var errors = Reason(body.Reason).Check(body.Hours is > 0, "hours", "hours must be a whole number of hours, 1 or more.");
        if (errors.Any) return errors.Problem();
        return Map(await actions.GoodwillUnlockAsync(user.LenderId(), id, body.Hours!.Value, body.Reason!.Trim(), user.Actor(), ct));
    }

    private static Task<Results<Ok<ActionView>, ValidationProblem, ProblemHttpResult>> Lock(Guid id, StaffReason body, ClaimsPrincipal user,
        StaffActions actions, CancellationToken ct) =>
        WithReason(body, reason => actions.LockNowAsync(user.LenderId(), id, reason, user.Actor(), ct));

    private static Task<Results<Ok<ActionView>, ValidationProblem, ProblemHttpResult>> Release(Guid id, StaffReason body, ClaimsPrincipal user,
        StaffActions actions, CancellationToken ct) =>
        WithReason(body, reason => actions.ReleaseEarlyAsync(user.LenderId(), id, reason, user.Actor(), ct));

    private static Task<Results<Ok<ActionView>, ValidationProblem, ProblemHttpResult>> Repossess(Guid id, StaffReason body, ClaimsPrincipal user,
        StaffActions actions, CancellationToken ct) =>
        WithReason(body, reason => actions.RepossessAsync(user.LenderId(), id, reason, user.Actor(), ct));

    private static Task<Results<Ok<ActionView>, ValidationProblem, ProblemHttpResult>> Restock(Guid id, StaffReason body, ClaimsPrincipal user,
        StaffActions actions, CancellationToken ct) =>
        WithReason(body, reason => actions.RestockAsync(user.LenderId(), id, reason, user.Actor(), ct));

    // The actions that take nothing but a reason: the reason checked, the action run with it trimmed, its outcome mapped.
    private static async Task<Results<Ok<ActionView>, ValidationProblem, ProblemHttpResult>> WithReason(StaffReason body, Func<string, Task<ActionOutcome>> act)
    {
        var errors = Reason(body.Reason);
        if (errors.Any) return errors.Problem();
        return Map(await act(body.Reason!.Trim()));
    }

    private static Errors Reason(string? reason) => new Errors().Text(reason, "reason", 500, required: true, lines: true);

    private static Results<Ok<ActionView>, ValidationProblem, ProblemHttpResult> Map(ActionOutcome outcome) => outcome switch
    {
        ActionOutcome.Done(var p, var d) => TypedResults.Ok(new ActionView(p.Id, p.DeviceId, d.Mode, d.UnlockedUntil, d.Notice, p.PromisedUntil,
            p.GoodwillUntil, p.DisputeOpenedAt, p.NextReviewAt)),
        ActionOutcome.Restocked(var device, var d) => TypedResults.Ok(new ActionView(null, device.Id, d.Mode, d.UnlockedUntil, d.Notice, null, null, null, null)),
        ActionOutcome.Refused r => TypedResults.Problem(statusCode: r.Status, title: r.Title, detail: r.Detail),
        var other => throw new InvalidOperationException($"Unexpected outcome {other}."),
    };
}
