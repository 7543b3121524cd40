using System.Security.Claims;
using Lien.Server.Api;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Plans;

internal sealed record InstallmentInput(DateOnly? DueDate, long? Amount);
internal sealed record GenerateSchedule(int? Count, Frequency? Frequency, DateOnly? FirstDueDate);
internal sealed record CreatePlan(Guid? DeviceId, string? BorrowerReference, long? Price, long? DownPayment, string? Currency,
    IReadOnlyList<InstallmentInput>? Installments, GenerateSchedule? Generate, bool? Backdated = null, string? BorrowerPhone = null,
    string? BorrowerLanguage = null);
internal sealed record CancelPlan(string? Reason);

internal sealed record InstallmentView(int Number, DateOnly DueDate, long Amount, long Paid, long Outstanding);
internal sealed record PlanView(
    Guid Id, Guid DeviceId, string Reference, string? BorrowerReference, long Price, long DownPayment, string Currency,
    PlanLifecycle Lifecycle, PlanStatus Status, int DaysPastDue, long AmountOverdue, long Outstanding, long Paid, long Credit,
    DateOnly? NextDueDate, long NextDueAmount, IReadOnlyList<InstallmentView> Installments,
    DateTimeOffset CreatedAt, DateTimeOffset? ClosedAt, string? CloseReason, DateTimeOffset? NextReviewAt,
    bool Backdated, long RefundDue, DateTimeOffset? SettlementHoldUntil, string? BorrowerPhone, string? BorrowerLanguage);

internal static class PlanEndpoints
{
    public static IServiceCollection AddPlans(this IServiceCollection services) => services.AddScoped<PlanBook>();

    public static IEndpointRouteBuilder MapPlans(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/plans").WithTags("Plans");
        g.MapPost("", Create).RequireAuthorization(Roles.Operator);
        g.MapGet("", List).RequireAuthorization(Roles.Viewer);
        g.MapGet("/{id:guid}", Get).RequireAuthorization(Roles.Viewer);
        g.MapPost("/{id:guid}/cancel", Cancel).RequireAuthorization(Roles.Operator);
        return app;
    }

    private static async Task<Results<Created<PlanView>, ValidationProblem, ProblemHttpResult>> Create(CreatePlan body, ClaimsPrincipal user,
        PlanBook book, TimeProvider time, CancellationToken ct) =>
        await book.CreateAsync(user.LenderId(), body, user.Actor(), ct) switch
        {
            PlanOutcome.Done(var plan, var lender) => TypedResults.Created($"/v1/plans/{plan.Id}", View(plan, lender, time.GetUtcNow())),
            PlanOutcome.Invalid(var errors) => errors.Problem(),
            PlanOutcome.Refused refused => Refusal(refused),
            var other => throw new InvalidOperationException($"Unexpected plan outcome {other}."),
        };

    private static async Task<Results<Ok<Page<PlanView>>, ValidationProblem, ProblemHttpResult>> List(ClaimsPrincipal user, LienDb db, TimeProvider time,
        Guid? deviceId, PlanLifecycle? lifecycle, int? limit, string? after, CancellationToken ct)
    {
        // The binder reads an enum from a number too ("lifecycle=7").
        var errors = new Errors().Text(after, "after", 64)
            .Check(lifecycle is null || Enum.IsDefined(lifecycle.Value), "lifecycle", $"lifecycle must be one of {string.Join(", ", Enum.GetNames<PlanLifecycle>())}.");
        if (errors.Any) return errors.Problem();
        if (!Paging.TryCursor(after, out var cursor)) return TypedResults.Problem(statusCode: 400, title: "Bad cursor", detail: "after must be the cursor returned as next by the previous page.");
        var lenderId = user.LenderId();
        var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == lenderId, ct);
        var q = db.Plans.AsNoTracking().Include(p => p.Installments).Where(p => p.LenderId == lenderId);
        if (deviceId is { } d) q = q.Where(p => p.DeviceId == d);
        if (lifecycle is { } lc) q = q.Where(p => p.Lifecycle == lc);
        if (cursor is { } c) q = q.Where(p => p.Id.CompareTo(c) > 0);
        var n = Paging.Limit(limit);
        var plans = await q.OrderBy(p => p.Id).Take(n + 1).ToListAsync(ct);
        var now = time.GetUtcNow();
        var items = plans.Take(n).Select(p => View(p, lender, now)).ToList();
        return TypedResults.Ok(new Page<PlanView>(items, plans.Count > n ? Paging.Cursor(items[^1].Id) : null));
    }

    private static async Task<Results<Ok<PlanView>, ProblemHttpResult>> Get(Guid id, ClaimsPrincipal user, LienDb db, TimeProvider time, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var plan = await db.Plans.AsNoTracking().Include(p => p.Installments).FirstOrDefaultAsync(p => p.Id == id && p.LenderId == lenderId, ct);
        if (plan is null) return Problems.NotFound("No such plan.");
        var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == lenderId, ct);
        return TypedResults.Ok(View(plan, lender, time.GetUtcNow()));
    }

    private static async Task<Results<Ok<PlanView>, ValidationProblem, ProblemHttpResult>> Cancel(Guid id, CancelPlan body, ClaimsPrincipal user,
        PlanBook book, TimeProvider time, CancellationToken ct)
    {
        var errors = new Errors().Text(body.Reason, "reason", 500, required: true, lines: true);
        if (errors.Any) return errors.Problem();
        return await book.CancelAsync(user.LenderId(), id, body.Reason!, user.Actor(), ct) switch
        {
            PlanOutcome.Done(var plan, var lender) => TypedResults.Ok(View(plan, lender, time.GetUtcNow())),
            PlanOutcome.Refused refused => Refusal(refused),
            var other => throw new InvalidOperationException($"Unexpected plan outcome {other}."),
        };
    }

    private static ProblemHttpResult Refusal(PlanOutcome.Refused refused) => refused.Reason switch
    {
        PlanRefusal.UnknownPlan => Problems.NotFound(refused.Detail),
        PlanRefusal.UnknownDevice => Problems.Unprocessable("Unknown device", refused.Detail),
        PlanRefusal.Backdated => Problems.Unprocessable("Backdated plan", refused.Detail),
        _ => Problems.Conflict(refused.Detail),
    };

    public static PlanView View(Plan plan, Lender lender, DateTimeOffset now)
    {
        var state = plan.State(lender, now);
        return new PlanView(plan.Id, plan.DeviceId, plan.Reference, plan.BorrowerReference, plan.Price, plan.DownPayment, plan.Currency,
            plan.Lifecycle, state.Status, state.DaysPastDue, state.AmountOverdue, state.Outstanding, plan.PaidTotal, state.Credit,
            state.NextDueDate, state.NextDueAmount,
            state.Allocation.Installments.Select(a => new InstallmentView(a.Installment.Number, a.Installment.DueDate, a.Installment.Amount, a.Paid, a.Outstanding)).ToList(),
            plan.CreatedAt, plan.ClosedAt, plan.CloseReason, plan.NextReviewAt, plan.Backdated,
            // What the borrower paid beyond the whole plan is owed back to them: flagged for refund, never spent.
            RefundDue: state.Credit,
            SettlementHoldUntil: plan.Lifecycle == PlanLifecycle.PaidOff && plan.ClosedAt is { } paidOff ? Policy.SettlementEnds(paidOff, lender.Profile()) : null,
            BorrowerPhone: plan.BorrowerPhone, BorrowerLanguage: plan.BorrowerLanguage);
    }
}
