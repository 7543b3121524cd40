using System.Security.Claims;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Devices;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Payments;

internal sealed record PostPayment(Guid? PlanId, string? PlanReference, long? Amount, string? Currency, string? Provider,
    string? ProviderTransactionId, DateTimeOffset? ReceivedAt);
internal sealed record ReversePayment(string? Reason, string? ProviderTransactionId);

internal sealed record PaymentView(Guid Id, Guid PlanId, PaymentKind Kind, long Amount, string Currency, string Provider,
    string ProviderTransactionId, DateTimeOffset ReceivedAt, DateTimeOffset RecordedAt, Guid? ReversesId, string? Reason,
    string Actor, LeaseMode LeaseMode, long LeaseSeq);

internal static class PaymentEndpoints
{
    // No payment the ledger records was received before this; a date before it is a mistake (0001-01-01 is a default).
    private static readonly DateTimeOffset EarliestReceipt = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // The column holds 128; a reversal given no id of its own is recorded as "{payment's id}/reversal".
    private const int MaxTransactionId = 128 - 9;

    public static IServiceCollection AddPayments(this IServiceCollection services) => services.AddScoped<PaymentLedger>().AddScoped<PaymentMatcher>();

    public static IEndpointRouteBuilder MapPayments(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/payments").WithTags("Payments");
        g.MapPost("", Post).RequireAuthorization(Roles.Operator)
            .WithDescription("Records a payment once per (provider, providerTransactionId): a repeat answers 200 with the recorded payment.");
        g.MapGet("/{id:guid}", Get).RequireAuthorization(Roles.Viewer);
        g.MapPost("/{id:guid}/reversal", Reverse).RequireAuthorization(Roles.Operator)
            .WithDescription("Reverses a payment by appending a reversal entry; the ledger is never edited.");
        app.MapGet("/v1/plans/{planId:guid}/payments", ForPlan).WithTags("Payments").RequireAuthorization(Roles.Viewer);
        return app;
    }

    private static async Task<Results<Created<PaymentView>, Ok<PaymentView>, ValidationProblem, ProblemHttpResult>> Post(PostPayment body,
        ClaimsPrincipal user, PaymentLedger ledger, TimeProvider time, CancellationToken ct)
    {
        var errors = new Errors()
            .Check(body.PlanId is not null || !string.IsNullOrWhiteSpace(body.PlanReference), "planId", "Give planId or planReference.")
            .Text(body.PlanReference, "planReference", 32)
            .Check(body.Amount is > 0, "amount", "amount must be a positive number of minor units.")
            .Check(body.Amount is null or <= 1_000_000_000_000, "amount", "amount is implausibly large.")
            .Check(Currencies.IsKnown(body.Currency), "currency", "currency must be an ISO 4217 code such as KES.")
            .Text(body.Provider, "provider", 64, required: true)
            .Text(body.ProviderTransactionId, "providerTransactionId", MaxTransactionId, required: true);
        if (body.ReceivedAt is { } r && r < EarliestReceipt) errors.Add("receivedAt", "receivedAt is before 2000-01-01.");
        if (body.ReceivedAt is { } f && f > time.GetUtcNow().AddMinutes(5)) errors.Add("receivedAt", "receivedAt is in the future.");
        if (errors.Any) return errors.Problem();
        // Stored as the same instant in UTC: PostgreSQL's timestamptz takes no other offset.
        var input = new PaymentInput(body.PlanId, body.PlanReference, body.Amount!.Value, body.Currency!, body.Provider!,
            body.ProviderTransactionId!, body.ReceivedAt?.ToUniversalTime());
        return await ledger.RecordAsync(user.LenderId(), input, user.Actor(), ct) switch
        {
            LedgerOutcome.Recorded(var p, var d) => TypedResults.Created($"/v1/payments/{p.Id}", View(p, d)),
            LedgerOutcome.AlreadyRecorded(var p, var d) => TypedResults.Ok(View(p, d)),
            LedgerOutcome.Refused refused => Refusal(refused),
            var other => throw new InvalidOperationException($"Unexpected ledger outcome {other}."),
        };
    }

    private static async Task<Results<Created<PaymentView>, ValidationProblem, ProblemHttpResult>> Reverse(Guid id, ReversePayment body,
        ClaimsPrincipal user, PaymentLedger ledger, CancellationToken ct)
    {
        var errors = new Errors().Text(body.Reason, "reason", 500, required: true, lines: true)
            .Text(body.ProviderTransactionId, "providerTransactionId", 128);
        if (errors.Any) return errors.Problem();
        return await ledger.ReverseAsync(user.LenderId(), id, body.Reason!, body.ProviderTransactionId, user.Actor(), ct) switch
        {
            LedgerOutcome.Recorded(var p, var d) => TypedResults.Created($"/v1/payments/{p.Id}", View(p, d)),
            LedgerOutcome.Refused refused => Refusal(refused),
            var other => throw new InvalidOperationException($"Unexpected ledger outcome {other}."),
        };
    }

    private static ProblemHttpResult Refusal(LedgerOutcome.Refused refused) => refused.Reason switch
    {
        LedgerRefusal.UnknownPayment => Problems.NotFound(refused.Detail),
        LedgerRefusal.UnknownPlan => Problems.Unprocessable("Unknown plan", refused.Detail),
        LedgerRefusal.WrongCurrency => Problems.Unprocessable("Wrong currency", refused.Detail),
        _ => Problems.Conflict(refused.Detail),
    };

    private static async Task<Results<Ok<PaymentView>, ProblemHttpResult>> Get(Guid id, ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var p = await db.Payments.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id && x.LenderId == lenderId, ct);
        if (p is null) return Problems.NotFound("No such payment.");
        var device = await db.Plans.Where(x => x.Id == p.PlanId).Join(db.Devices, x => x.DeviceId, d => d.Id, (_, d) => d).AsNoTracking().FirstAsync(ct);
        return TypedResults.Ok(View(p, device));
    }

    private static async Task<Results<Ok<List<PaymentView>>, ProblemHttpResult>> ForPlan(Guid planId, ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var plan = await db.Plans.AsNoTracking().FirstOrDefaultAsync(p => p.Id == planId && p.LenderId == lenderId, ct);
        if (plan is null) return Problems.NotFound("No such plan.");
        var device = await db.Devices.AsNoTracking().FirstAsync(d => d.Id == plan.DeviceId, ct);
        var rows = await db.Payments.AsNoTracking().Where(p => p.PlanId == planId).OrderBy(p => p.RecordedAt).ThenBy(p => p.Id).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(p => View(p, device)).ToList());
    }

    private static PaymentView View(Payment p, Device d) => new(p.Id, p.PlanId, p.Kind, p.Amount, p.Currency, p.Provider,
        p.ProviderTransactionId, p.ReceivedAt, p.RecordedAt, p.ReversesId, p.Reason, p.Actor, d.LeaseMode, d.LeaseSeq);
}
