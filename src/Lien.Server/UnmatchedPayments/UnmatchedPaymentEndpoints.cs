using System.Security.Claims;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Payments;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.UnmatchedPayments;

internal sealed record UnmatchedPaymentView(Guid Id, string Provider, string ProviderTransactionId, string AccountReference, long Amount,
    string Currency, string? Payer, string? PayerName, DateTimeOffset ReceivedAt, DateTimeOffset CreatedAt, MatchRule Rule, string? Note,
    Guid? ProposedPlanId, UnmatchedState State, Guid? PlanId, Guid? PaymentId, string? Reason, string? ResolvedBy, DateTimeOffset? ResolvedAt,
    LeaseMode? LeaseMode = null, long? LeaseSeq = null);
internal sealed record AssignUnmatched(Guid? PlanId, string? Reason);
internal sealed record RefundUnmatched(string? Reason);

internal static class UnmatchedPaymentEndpoints
{
    public static IServiceCollection AddUnmatchedPayments(this IServiceCollection services) =>
        services.AddScoped<UnmatchedQueue>();

    public static IEndpointRouteBuilder MapUnmatchedPayments(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/unmatched-payments").WithTags("Unmatched payments");
        g.MapGet("", List).RequireAuthorization(Roles.Viewer)
            .WithDescription("Payments whose account reference named no plan (or was one character off one: proposedPlanId), oldest first.");
        g.MapGet("/{id:guid}", Get).RequireAuthorization(Roles.Viewer);
        g.MapPost("/{id:guid}/assign", Assign).RequireAuthorization(Roles.Operator)
            .WithDescription("Records the held payment for a plan, with a reason: the plan is reviewed and its device unlocked at once if the payment brings it current. An item is assigned once.");
        g.MapPost("/{id:guid}/refund", Refund).RequireAuthorization(Roles.Operator)
            .WithDescription("Marks the held payment as the payer's money to give back, with a reason; it is never applied afterwards.");
        return app;
    }

    private static async Task<Results<Ok<Page<UnmatchedPaymentView>>, ValidationProblem, ProblemHttpResult>> List(ClaimsPrincipal user, LienDb db,
        UnmatchedState? state, string? after, int? limit, CancellationToken ct)
    {
        var errors = new Errors().Text(after, "after", 64)
            .Check(state is null || Enum.IsDefined(state.Value), "state", $"state must be one of {string.Join(", ", Enum.GetNames<UnmatchedState>())}.");
        if (errors.Any) return errors.Problem();
        if (!Paging.TryCursor(after, out var cursor)) return TypedResults.Problem(statusCode: 400, title: "Bad cursor", detail: "after must be the cursor returned as next by the previous page.");
        var lenderId = user.LenderId();
        var q = db.Set<UnmatchedPayment>().AsNoTracking().Where(x => x.LenderId == lenderId);
        if (state is { } s) q = q.Where(x => x.State == s);
        if (cursor is { } c) q = q.Where(x => x.Id.CompareTo(c) > 0);
        var n = Paging.Limit(limit);
        var rows = await q.OrderBy(x => x.Id).Take(n + 1).ToListAsync(ct);
        var items = rows.Take(n).Select(x => View(x)).ToList();
        return TypedResults.Ok(new Page<UnmatchedPaymentView>(items, rows.Count > n ? Paging.Cursor(items[^1].Id) : null));
    }

    private static async Task<Results<Ok<UnmatchedPaymentView>, ProblemHttpResult>> Get(Guid id, ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var item = await db.Set<UnmatchedPayment>().AsNoTracking().FirstOrDefaultAsync(x => x.Id == id && x.LenderId == lenderId, ct);
        return item is null ? Problems.NotFound("No such unmatched payment.") : TypedResults.Ok(View(item));
    }

    private static async Task<Results<Ok<UnmatchedPaymentView>, ValidationProblem, ProblemHttpResult>> Assign(Guid id, AssignUnmatched body,
        ClaimsPrincipal user, UnmatchedQueue queue, CancellationToken ct)
    {
        var errors = new Errors().Check(body.PlanId is not null, "planId", "planId is required.").Text(body.Reason, "reason", 500, required: true, lines: true);
        if (errors.Any) return errors.Problem();
        return Answer(await queue.AssignAsync(user.LenderId(), id, body.PlanId!.Value, body.Reason!, user.Actor(), ct));
    }

    private static async Task<Results<Ok<UnmatchedPaymentView>, ValidationProblem, ProblemHttpResult>> Refund(Guid id, RefundUnmatched body,
        ClaimsPrincipal user, UnmatchedQueue queue, CancellationToken ct)
    {
        var errors = new Errors().Text(body.Reason, "reason", 500, required: true, lines: true);
        if (errors.Any) return errors.Problem();
        return Answer(await queue.MarkRefundAsync(user.LenderId(), id, body.Reason!, user.Actor(), ct));
    }

    private static Results<Ok<UnmatchedPaymentView>, ValidationProblem, ProblemHttpResult> Answer(QueueOutcome outcome) => outcome switch
    {
        QueueOutcome.Done(var item, var device) => TypedResults.Ok(View(item, device)),
        QueueOutcome.NotFound => Problems.NotFound("No such unmatched payment."),
        QueueOutcome.Refused(var detail, true) => Problems.Conflict(detail),
        QueueOutcome.Refused(var detail, false) => Problems.Unprocessable("Cannot assign", detail),
        var other => throw new InvalidOperationException($"Unexpected queue outcome {other}."),
    };

    private static UnmatchedPaymentView View(UnmatchedPayment x, Devices.Device? d = null) => new(x.Id, x.Provider, x.ProviderTransactionId,
        x.AccountReference, x.Amount, x.Currency, x.Payer, x.PayerName, x.ReceivedAt, x.CreatedAt, x.Rule, x.Note, x.ProposedPlanId, x.State, x.PlanId,
        x.PaymentId, x.Reason, x.ResolvedBy, x.ResolvedAt, d?.LeaseMode, d?.LeaseSeq);
}
