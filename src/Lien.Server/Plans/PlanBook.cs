using System.Security.Cryptography;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Plans;

/// <summary>What became of a plan operation.</summary>
internal abstract record PlanOutcome
{
    /// <summary>Done and committed: the plan as it now stands, and its lender (for the view).</summary>
    public sealed record Done(Plan Plan, Lender Lender) : PlanOutcome;

    /// <summary>The request itself is wrong; nothing was looked up or written.</summary>
    public sealed record Invalid(Errors Errors) : PlanOutcome;

    /// <summary>The request is well formed but the state of things refuses it; nothing was written.</summary>
    public sealed record Refused(PlanRefusal Reason, string Detail) : PlanOutcome;
}

internal enum PlanRefusal { UnknownDevice, DeviceReleased, DeviceHasPlan, UnknownPlan, NotActive, Backdated }

/// <summary>
/// Opens and closes installment plans: the schedule checked against the price, one active plan per device, and the
/// plan's first review (and the lease it brings) in the same transaction.
/// </summary>
internal sealed class PlanBook(LienDb db, LeaseIssuer leases, AuditTrail audit, TimeProvider time)
{
    public async Task<PlanOutcome> CreateAsync(Guid lenderId, CreatePlan body, string actor, CancellationToken ct)
    {
        var held = await db.Lenders.Where(l => l.Id == lenderId).Select(l => new { l.Currency, l.TimeZone }).FirstAsync(ct);
        var currency = body.Currency ?? held.Currency;
        var (schedule, errors) = ScheduleOf(body, currency);
        if (errors.Any) return new PlanOutcome.Invalid(errors);
        var backdated = PastDue(schedule[0], held.TimeZone, time.GetUtcNow());
        if (backdated is not null && body.Backdated != true) return new PlanOutcome.Refused(PlanRefusal.Backdated, backdated);

        return await db.InTransactionAsync<PlanOutcome>(async () =>
        {
            await db.LockLenderIfRedoingAsync(lenderId, ct);
            var device = await db.Devices.FirstOrDefaultAsync(d => d.Id == body.DeviceId && d.LenderId == lenderId, ct);
            if (device is null) return new PlanOutcome.Refused(PlanRefusal.UnknownDevice, "deviceId names no device of this lender.");
            if (device.ReleasedAt is not null)
                return new PlanOutcome.Refused(PlanRefusal.DeviceReleased,
                    "The device has been released; a released device cannot be financed again under the same registration. Register it again.");
            if (device.AwaitingRestock)
                return new PlanOutcome.Refused(PlanRefusal.DeviceHasPlan, "The device was repossessed; put it in stock (POST /v1/devices/{id}/restock) before financing it again.");
            if (await db.Plans.AnyAsync(p => p.DeviceId == device.Id && p.Lifecycle == PlanLifecycle.Active, ct))
                return new PlanOutcome.Refused(PlanRefusal.DeviceHasPlan, "The device already has an active plan; cancel it or wait for payoff first.");
            var now = time.GetUtcNow();
            var lender = await db.Lenders.FirstAsync(l => l.Id == lenderId, ct);
            var plan = new Plan
            {
                Id = Guid.CreateVersion7(now),
                LenderId = lenderId,
                DeviceId = device.Id,
                Reference = NewReference(),
                BorrowerReference = body.BorrowerReference?.Trim(),
                BorrowerPhone = body.BorrowerPhone,
                BorrowerLanguage = body.BorrowerLanguage,
                Price = body.Price!.Value,
                DownPayment = body.DownPayment ?? 0,
                Currency = currency,
                Lifecycle = PlanLifecycle.Active,
                CreatedAt = now,
                Backdated = backdated is not null,
            };
            plan.SetSchedule(schedule);
            db.Plans.Add(plan);
            await audit.RecordAsync(lenderId, actor, AuditAction.PlanCreated, $"plan:{plan.Id}", policy: lender.PolicyProfile,
                data: new { device = device.Id, plan.Price, plan.DownPayment, plan.Currency, installments = schedule.Count, plan.Backdated }, ct: ct);
            await leases.ReviewAsync(device, lender, plan, "plan created", actor, ct);
            return new PlanOutcome.Done(plan, lender);
        }, ct);
    }

    public Task<PlanOutcome> CancelAsync(Guid lenderId, Guid planId, string reason, string actor, CancellationToken ct) =>
        db.InTransactionAsync<PlanOutcome>(async () =>
        {
            await db.LockLenderIfRedoingAsync(lenderId, ct);
            var plan = await db.Plans.Include(p => p.Installments).FirstOrDefaultAsync(p => p.Id == planId && p.LenderId == lenderId, ct);
            if (plan is null) return new PlanOutcome.Refused(PlanRefusal.UnknownPlan, "No such plan.");
            if (plan.Lifecycle != PlanLifecycle.Active)
                return new PlanOutcome.Refused(PlanRefusal.NotActive, $"The plan is {plan.Lifecycle}; only an active plan can be cancelled.");
            plan.Cancel(time.GetUtcNow(), reason);
            await audit.RecordAsync(lenderId, actor, AuditAction.PlanCancelled, $"plan:{plan.Id}", reason, ct: ct);
            var (_, _, lender) = await leases.ReviewPlanAsync(plan, "plan cancelled", actor, ct);
            return new PlanOutcome.Done(plan, lender);
        }, ct);

    /// <summary>
    /// Why a plan starting with <paramref name="first"/> is backdated — the installment is already past due in the
    /// lender's time zone (<paramref name="zone"/>), so the plan would start overdue — or null when it is not.
    /// </summary>
    public static string? PastDue(Installment first, string zone, DateTimeOffset now)
    {
        var today = Policy.LocalDate(now, TimeZoneInfo.FindSystemTimeZoneById(zone));
        if (first.DueDate >= today) return null;
        return $"The first installment falls due on {first.DueDate:yyyy-MM-dd}, before today ({today:yyyy-MM-dd} in {zone}): the plan would "
               + "start overdue and the phone could lock at once. Dates are read as yyyy-MM-dd only. If this loan is moved from another "
               + "system with its original dates, send \"backdated\": true (lien plans create --backdated); otherwise correct the dates.";
    }

    /// <summary>The schedule a request asks for (explicit or generated), or what is wrong with it.</summary>
    public static (IReadOnlyList<Installment>, Errors) ScheduleOf(CreatePlan body, string currency)
    {
        var errors = new Errors()
            .Check(body.DeviceId is not null, "deviceId", "deviceId is required.")
            .Check(body.Price is > 0 and <= 1_000_000_000_000, "price", "price is required: a positive amount in minor units.")
            .Check(body.DownPayment is null or >= 0, "downPayment", "downPayment cannot be negative.")
            .Check(Currencies.IsKnown(currency), "currency", "currency must be an ISO 4217 code such as KES.")
            .Text(body.BorrowerReference, "borrowerReference", 100)
            .Check(body.BorrowerPhone is null || Phones.IsE164(body.BorrowerPhone), "borrowerPhone",
                "borrowerPhone must be an E.164 number: + then the country code and number, 8 to 15 digits, e.g. +254712345678.")
            .Check(body.BorrowerLanguage is null || body.BorrowerLanguage is "en" or "sw", "borrowerLanguage", "borrowerLanguage must be en or sw.");
        var financed = (body.Price ?? 0) - (body.DownPayment ?? 0);
        if (body.Price is > 0 && financed <= 0) errors.Add("downPayment", "downPayment must be less than price.");
        if ((body.Installments is null) == (body.Generate is null))
            return ([], errors.Add("installments", "Give either installments (an explicit schedule) or generate (count, frequency, firstDueDate)."));
        if (errors.Any) return ([], errors);

        IReadOnlyList<Installment> schedule;
        if (body.Generate is { } gen)
        {
            errors.Check(gen.Count is >= 1 and <= Schedule.MaxInstallments, "generate.count", $"generate.count must be between 1 and {Schedule.MaxInstallments}.")
                .Check(gen.Frequency is not null && Enum.IsDefined(gen.Frequency.Value), "generate.frequency", "generate.frequency must be Monthly, Weekly or Daily.")
                .Check(gen.FirstDueDate is not null, "generate.firstDueDate", "generate.firstDueDate is required.")
                .Check(gen.FirstDueDate is null || InRange(gen.FirstDueDate.Value), "generate.firstDueDate", $"generate.firstDueDate {DueDates}.");
            if (errors.Any) return ([], errors);
            if (financed < gen.Count) return ([], errors.Add("generate.count", "Each installment must be at least one minor unit."));
            schedule = Schedule.Generate(financed, gen.Count!.Value, gen.Frequency!.Value, gen.FirstDueDate!.Value);
        }
        else
        {
            var rows = body.Installments!;
            if (rows.Count > Schedule.MaxInstallments) return ([], errors.Add("installments", $"A plan has at most {Schedule.MaxInstallments} installments."));
            for (var i = 0; i < rows.Count; i++)
                errors.Check(rows[i] is { DueDate: not null, Amount: not null }, $"installments[{i}]", "Each installment needs dueDate and amount.")
                    .Check(rows[i]?.DueDate is not { } due || InRange(due), $"installments[{i}].dueDate", $"installments[{i}].dueDate {DueDates}.");
            if (errors.Any) return ([], errors);
            schedule = rows.Select((r, i) => new Installment(i + 1, r.DueDate!.Value, r.Amount!.Value)).ToList();
        }
        // A generated schedule can run past the last due date; it is the request's generate that is wrong then.
        if (Schedule.Problem(schedule, financed) is { } problem) errors.Add(body.Generate is null ? "installments" : "generate", problem);
        return (schedule, errors);
    }

    // Checked before any date arithmetic: 9999-06-01 plus a few months is past DateOnly's end.
    private static bool InRange(DateOnly date) => date >= Schedule.EarliestDueDate && date <= Schedule.LatestDueDate;

    private static readonly string DueDates = $"must be a date from {Schedule.EarliestDueDate:yyyy-MM-dd} to {Schedule.LatestDueDate:yyyy-MM-dd}";

    // What a borrower types as the account number at the mobile-money provider: short, no look-alike letters.
    private static string NewReference()
    {
        const string alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        Span<char> s = stackalloc char[6];
        for (var i = 0; i < s.Length; i++) s[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
        return "LN-" + new string(s);
    }
}
