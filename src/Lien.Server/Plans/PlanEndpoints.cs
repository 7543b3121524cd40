using System.Security.Claims;
using System.Security.Cryptography;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Devices;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Plans;

internal sealed record InstallmentInput(DateOnly? DueDate, long? Amount);
internal sealed record GenerateSchedule(int? Count, Frequency? Frequency, DateOnly? FirstDueDate);
internal sealed record CreatePlan(Guid? DeviceId, string? BorrowerReference, long? Price, long? DownPayment, string? Currency,
    IReadOnlyList<InstallmentInput>? Installments, GenerateSchedule? Generate);
internal sealed record CancelPlan(string? Reason);

internal sealed record InstallmentView(int Number, DateOnly DueDate, long Amount, long Paid, long Outstanding);
internal sealed record PlanView(
    Guid Id, Guid DeviceId, string Reference, string? BorrowerReference, long Price, long DownPayment, string Currency,
    PlanLifecycle Lifecycle, PlanStatus Status, int DaysPastDue, long AmountOverdue, long Outstanding, long Paid, long Credit,
    DateOnly? NextDueDate, long NextDueAmount, IReadOnlyList<InstallmentView> Installments,
    DateTimeOffset CreatedAt, DateTimeOffset? ClosedAt, string? CloseReason, DateTimeOffset? NextReviewAt);

internal static class PlanEndpoints
{
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
        LienDb db, LeaseIssuer leases, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == lenderId, ct);
        var currency = body.Currency ?? lender.Currency;
        var (schedule, errors) = ScheduleOf(body, currency);
        if (errors.Any) return errors.Problem();

        return await db.InTransactionAsync<Results<Created<PlanView>, ValidationProblem, ProblemHttpResult>>(async () =>
        {
            var device = await db.Devices.FirstOrDefaultAsync(d => d.Id == body.DeviceId && d.LenderId == lenderId, ct);
            if (device is null) return Problems.Unprocessable("Unknown device", "deviceId names no device of this lender.");
            if (device.ReleasedAt is not null) return Problems.Conflict("The device has been released; a released device cannot be financed again under the same registration. Register it again.");
            if (await db.Plans.AnyAsync(p => p.DeviceId == device.Id && p.Lifecycle == PlanLifecycle.Active, ct))
                return Problems.Conflict("The device already has an active plan; cancel it or wait for payoff first.");
            var now = time.GetUtcNow();
            var plan = new Plan
            {
                Id = Guid.CreateVersion7(now),
                LenderId = lenderId,
                DeviceId = device.Id,
                Reference = NewReference(),
                BorrowerReference = body.BorrowerReference?.Trim(),
                Price = body.Price!.Value,
                DownPayment = body.DownPayment ?? 0,
                Currency = currency,
                Lifecycle = PlanLifecycle.Active,
                CreatedAt = now,
                Installments = schedule.Select(i => new PlanInstallment { Number = i.Number, DueDate = i.DueDate, Amount = i.Amount }).ToList(),
            };
            db.Plans.Add(plan);
            await audit.RecordAsync(lenderId, user.Actor(), "plan.created", $"plan:{plan.Id}", policy: lender.PolicyProfile,
                data: new { device = device.Id, plan.Price, plan.DownPayment, plan.Currency, installments = schedule.Count }, ct: ct);
            var tracked = await db.Lenders.FirstAsync(l => l.Id == lenderId, ct);
            await leases.ReviewAsync(device, tracked, plan, "plan created", user.Actor(), ct);
            return TypedResults.Created($"/v1/plans/{plan.Id}", View(plan, tracked, time.GetUtcNow()));
        }, ct);
    }

    private static (IReadOnlyList<Installment>, Errors) ScheduleOf(CreatePlan body, string currency)
    {
        var errors = new Errors()
            .Check(body.DeviceId is not null, "deviceId", "deviceId is required.")
            .Check(body.Price is > 0 and <= 1_000_000_000_000, "price", "price is required: a positive amount in minor units.")
            .Check(body.DownPayment is null or >= 0, "downPayment", "downPayment cannot be negative.")
            .Check(Currencies.IsKnown(currency), "currency", "currency must be an ISO 4217 code such as KES.")
            .Text(body.BorrowerReference, "borrowerReference", 100);
        var financed = (body.Price ?? 0) - (body.DownPayment ?? 0);
        if (body.Price is > 0 && financed <= 0) errors.Add("downPayment", "downPayment must be less than price.");
        if ((body.Installments is null) == (body.Generate is null))
            return ([], errors.Add("installments", "Give either installments (an explicit schedule) or generate (count, frequency, firstDueDate)."));
        if (errors.Any) return ([], errors);

        IReadOnlyList<Installment> schedule;
        if (body.Generate is { } gen)
        {
            errors.Check(gen.Count is >= 1 and <= 1000, "generate.count", "generate.count must be between 1 and 1000.")
                .Check(gen.Frequency is not null && Enum.IsDefined(gen.Frequency.Value), "generate.frequency", "generate.frequency must be Monthly, Weekly or Daily.")
                .Check(gen.FirstDueDate is not null, "generate.firstDueDate", "generate.firstDueDate is required.");
            if (errors.Any) return ([], errors);
            if (financed < gen.Count) return ([], errors.Add("generate.count", "Each installment must be at least one minor unit."));
            schedule = Schedule.Generate(financed, gen.Count!.Value, gen.Frequency!.Value, gen.FirstDueDate!.Value);
        }
        else
        {
            var rows = body.Installments!;
            for (var i = 0; i < rows.Count; i++)
                errors.Check(rows[i] is { DueDate: not null, Amount: not null }, $"installments[{i}]", "Each installment needs dueDate and amount.");
            if (errors.Any) return ([], errors);
            schedule = rows.Select((r, i) => new Installment(i + 1, r.DueDate!.Value, r.Amount!.Value)).ToList();
        }
        if (Schedule.Problem(schedule, financed) is { } problem) errors.Add("installments", problem);
        return (schedule, errors);
    }

    private static async Task<Results<Ok<Page<PlanView>>, ProblemHttpResult>> List(ClaimsPrincipal user, LienDb db, TimeProvider time,
        Guid? deviceId, PlanLifecycle? lifecycle, int? limit, string? after, CancellationToken ct)
    {
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
        LienDb db, LeaseIssuer leases, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var errors = new Errors().Text(body.Reason, "reason", 500, required: true);
        if (errors.Any) return errors.Problem();
        var lenderId = user.LenderId();
        return await db.InTransactionAsync<Results<Ok<PlanView>, ValidationProblem, ProblemHttpResult>>(async () =>
        {
            var plan = await db.Plans.Include(p => p.Installments).FirstOrDefaultAsync(p => p.Id == id && p.LenderId == lenderId, ct);
            if (plan is null) return Problems.NotFound("No such plan.");
            if (plan.Lifecycle != PlanLifecycle.Active) return Problems.Conflict($"The plan is {plan.Lifecycle}; only an active plan can be cancelled.");
            plan.Lifecycle = PlanLifecycle.Cancelled;
            plan.ClosedAt = time.GetUtcNow();
            plan.CloseReason = body.Reason;
            var lender = await db.Lenders.FirstAsync(l => l.Id == lenderId, ct);
            var device = await db.Devices.FirstAsync(d => d.Id == plan.DeviceId, ct);
            await audit.RecordAsync(lenderId, user.Actor(), "plan.cancelled", $"plan:{plan.Id}", body.Reason, ct: ct);
            await leases.ReviewAsync(device, lender, plan, "plan cancelled", user.Actor(), ct);
            return TypedResults.Ok(View(plan, lender, time.GetUtcNow()));
        }, ct);
    }

    public static PlanView View(Plan plan, Lender lender, DateTimeOffset now)
    {
        var state = Policy.StateOf(LeaseIssuer.TermsOf(plan), plan.PaidTotal, TimeZoneInfo.FindSystemTimeZoneById(lender.TimeZone), now);
        return new PlanView(plan.Id, plan.DeviceId, plan.Reference, plan.BorrowerReference, plan.Price, plan.DownPayment, plan.Currency,
            plan.Lifecycle, state.Status, state.DaysPastDue, state.AmountOverdue, state.Outstanding, plan.PaidTotal, state.Credit,
            state.NextDueDate, state.NextDueAmount,
            state.Allocation.Installments.Select(a => new InstallmentView(a.Installment.Number, a.Installment.DueDate, a.Installment.Amount, a.Paid, a.Outstanding)).ToList(),
            plan.CreatedAt, plan.ClosedAt, plan.CloseReason, plan.NextReviewAt);
    }

    // What a borrower types as the account number at the mobile-money provider: short, no look-alike letters.
    private static string NewReference()
    {
        const string alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        Span<char> s = stackalloc char[6];
        for (var i = 0; i < s.Length; i++) s[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
        return "LN-" + new string(s);
    }
}
