using System.Security.Claims;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.Plans;
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
        ClaimsPrincipal user, LienDb db, LeaseIssuer leases, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var errors = new Errors()
            .Check(body.PlanId is not null || !string.IsNullOrWhiteSpace(body.PlanReference), "planId", "Give planId or planReference.")
            .Check(body.Amount is > 0, "amount", "amount must be a positive number of minor units.")
            .Check(body.Amount is null or <= 1_000_000_000_000, "amount", "amount is implausibly large.")
            .Check(Currencies.IsKnown(body.Currency), "currency", "currency must be an ISO 4217 code such as KES.")
            .Text(body.Provider, "provider", 64, required: true)
            .Text(body.ProviderTransactionId, "providerTransactionId", 128, required: true);
        var now = time.GetUtcNow();
        if (body.ReceivedAt is { } r && r > now.AddMinutes(5)) errors.Add("receivedAt", "receivedAt is in the future.");
        if (errors.Any) return errors.Problem();
        var lenderId = user.LenderId();

        return await db.InTransactionAsync<Results<Created<PaymentView>, Ok<PaymentView>, ValidationProblem, ProblemHttpResult>>(async () =>
        {
            var existing = await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.LenderId == lenderId && p.Provider == body.Provider
                && p.ProviderTransactionId == body.ProviderTransactionId, ct);
            var plan = await db.Plans.Include(p => p.Installments).FirstOrDefaultAsync(p => p.LenderId == lenderId
                && (body.PlanId != null ? p.Id == body.PlanId : p.Reference == body.PlanReference!.Trim().ToUpper()), ct);
            if (existing is not null)
            {
                if (existing.PlanId != plan?.Id || existing.Amount != body.Amount || existing.Currency != body.Currency)
                    return Problems.Conflict($"Transaction {body.ProviderTransactionId} of {body.Provider} is already recorded with a different plan, amount or currency.");
                var d = await db.Devices.AsNoTracking().FirstAsync(x => x.Id == plan!.DeviceId, ct);
                return TypedResults.Ok(View(existing, d));
            }
            if (plan is null) return Problems.Unprocessable("Unknown plan", "The payment names no plan of this lender; nothing was recorded.");
            if (plan.Currency != body.Currency)
                return Problems.Unprocessable("Wrong currency", $"The plan is in {plan.Currency}; a payment in {body.Currency} cannot be applied. Nothing was recorded.");
            if (plan.Lifecycle == PlanLifecycle.Cancelled)
                return Problems.Conflict("The plan is cancelled; nothing was recorded.");

            var payment = new Payment
            {
                Id = Guid.CreateVersion7(now),
                LenderId = lenderId,
                PlanId = plan.Id,
                Kind = PaymentKind.Payment,
                Amount = body.Amount!.Value,
                Currency = body.Currency!,
                Provider = body.Provider!,
                ProviderTransactionId = body.ProviderTransactionId!,
                ReceivedAt = body.ReceivedAt ?? now,
                RecordedAt = now,
                Actor = user.Actor(),
            };
            db.Payments.Add(payment);
            plan.PaidTotal += payment.Amount;
            var device = await ApplyAsync(db, leases, audit, plan, payment, "payment", user.Actor(), ct);
            return TypedResults.Created($"/v1/payments/{payment.Id}", View(payment, device));
        }, ct);
    }

    private static async Task<Results<Created<PaymentView>, ValidationProblem, ProblemHttpResult>> Reverse(Guid id, ReversePayment body,
        ClaimsPrincipal user, LienDb db, LeaseIssuer leases, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var errors = new Errors().Text(body.Reason, "reason", 500, required: true).Text(body.ProviderTransactionId, "providerTransactionId", 128);
        if (errors.Any) return errors.Problem();
        var lenderId = user.LenderId();
        return await db.InTransactionAsync<Results<Created<PaymentView>, ValidationProblem, ProblemHttpResult>>(async () =>
        {
            var original = await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id && p.LenderId == lenderId, ct);
            if (original is null) return Problems.NotFound("No such payment.");
            if (original.Kind != PaymentKind.Payment) return Problems.Conflict("A reversal cannot itself be reversed; record a new payment instead.");
            if (await db.Payments.AnyAsync(p => p.ReversesId == id, ct)) return Problems.Conflict("This payment has already been reversed.");
            var plan = await db.Plans.Include(p => p.Installments).FirstAsync(p => p.Id == original.PlanId, ct);
            var now = time.GetUtcNow();
            var reversal = new Payment
            {
                Id = Guid.CreateVersion7(now),
                LenderId = lenderId,
                PlanId = plan.Id,
                Kind = PaymentKind.Reversal,
                Amount = -original.Amount,
                Currency = original.Currency,
                Provider = original.Provider,
                ProviderTransactionId = body.ProviderTransactionId ?? $"{original.ProviderTransactionId}/reversal",
                ReceivedAt = now,
                RecordedAt = now,
                ReversesId = original.Id,
                Reason = body.Reason,
                Actor = user.Actor(),
            };
            db.Payments.Add(reversal);
            plan.PaidTotal -= original.Amount;
            // A paid-off plan owes money again; its device stays released, because Released is final.
            if (plan.Lifecycle == PlanLifecycle.PaidOff && plan.PaidTotal < plan.Installments.Sum(i => i.Amount))
            {
                plan.Lifecycle = PlanLifecycle.Active;
                plan.ClosedAt = null;
            }
            var device = await ApplyAsync(db, leases, audit, plan, reversal, "reversal", user.Actor(), ct);
            return TypedResults.Created($"/v1/payments/{reversal.Id}", View(reversal, device));
        }, ct);
    }

    private static async Task<Devices.Device> ApplyAsync(LienDb db, LeaseIssuer leases, AuditTrail audit, Plan plan, Payment entry,
        string cause, string actor, CancellationToken ct)
    {
        var lender = await db.Lenders.FirstAsync(l => l.Id == plan.LenderId, ct);
        var device = await db.Devices.FirstAsync(d => d.Id == plan.DeviceId, ct);
        await audit.RecordAsync(plan.LenderId, actor, entry.Kind == PaymentKind.Payment ? "payment.recorded" : "payment.reversed",
            $"payment:{entry.Id}", entry.Reason, data: new { plan = plan.Id, entry.Amount, entry.Currency, entry.Provider, entry.ProviderTransactionId }, ct: ct);
        await leases.ReviewAsync(device, lender, plan, cause, actor, ct);
        return device;
    }

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

    private static PaymentView View(Payment p, Devices.Device d) => new(p.Id, p.PlanId, p.Kind, p.Amount, p.Currency, p.Provider,
        p.ProviderTransactionId, p.ReceivedAt, p.RecordedAt, p.ReversesId, p.Reason, p.Actor, d.LeaseMode, d.LeaseSeq);
}
