using System.Security.Claims;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Devices;

internal sealed record DeviceView(
    Guid Id, string Imei, string? Imei2, string? Serial, string? Make, string? Model, DateTimeOffset CreatedAt,
    DateTimeOffset? ReleasedAt, DateTimeOffset? EnrolledAt, DateTimeOffset? LastSeenAt,
    long LeaseSeq, LeaseMode LeaseMode, long AppliedSeq, Guid? ActivePlanId, WrongCodesView WrongCodes, string? EnrolledWith, int RefusedAcks);

/// <summary>
/// The offline codes the phone refused as wrong since it enrolled, as its agent last reported at check-in, and when it
/// first reported that count (null: none reported). A rising count is someone guessing codes on the lock screen.
/// </summary>
internal sealed record WrongCodesView(int Count, DateTimeOffset? ReportedAt);

internal sealed record ImportedDevice(int Line, Guid Id, string Imei);
internal sealed record ImportError(int Line, string Reason);
internal sealed record ImportResult(int Registered, int Refused, IReadOnlyList<ImportedDevice> Devices, IReadOnlyList<ImportError> Errors);

internal static class DeviceEndpoints
{
    public static IServiceCollection AddDevices(this IServiceCollection services) => services.AddScoped<DeviceRegistry>();

    public static IEndpointRouteBuilder MapDevices(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/devices").WithTags("Devices");
        g.MapPost("", Register).RequireAuthorization(Roles.Operator);
        g.MapPost("/import", Import).RequireAuthorization(Roles.Operator)
            .Accepts<string>("text/csv")
            .WithDescription($"CSV with a header row: imei, imei2, serial, make, model. At most {DeviceCsv.MaxRows} rows. Valid rows are stored; each bad row is reported with its line and reason.");
        g.MapGet("", List).RequireAuthorization(Roles.Viewer);
        g.MapGet("/{id:guid}", Get).RequireAuthorization(Roles.Viewer);
        return app;
    }

    private static async Task<Results<Created<DeviceView>, ValidationProblem, ProblemHttpResult>> Register(RegisterDevice body,
        ClaimsPrincipal user, LienDb db, DeviceRegistry registry, CancellationToken ct)
    {
        var errors = body.Validate();
        if (errors.Any) return errors.Problem();
        var outcome = await db.InTransactionAsync(async () =>
        {
            await db.LockLenderIfRedoingAsync(user.LenderId(), ct);
            var lender = await db.Lenders.FirstAsync(l => l.Id == user.LenderId(), ct);
            return (await registry.RegisterAsync(lender, [(1, body)], user.Actor(), ct))[0];
        }, ct);
        if (outcome.Device is null) return Problems.Conflict(outcome.Refused!);
        return TypedResults.Created($"/v1/devices/{outcome.Device.Id}", View(outcome.Device, null));
    }

    private static async Task<Results<Ok<ImportResult>, ProblemHttpResult>> Import(HttpRequest request, ClaimsPrincipal user,
        LienDb db, DeviceRegistry registry, CancellationToken ct)
    {
        var (rows, refusal) = await DeviceCsv.ReadAsync(request.Body, ct);
        if (refusal is not null) return TypedResults.Problem(statusCode: refusal.Status, title: refusal.Title, detail: refusal.Detail);
        var outcomes = await db.InTransactionAsync(async () =>
        {
            await db.LockLenderIfRedoingAsync(user.LenderId(), ct);
            var lender = await db.Lenders.FirstAsync(l => l.Id == user.LenderId(), ct);
            return await registry.RegisterAsync(lender, rows, user.Actor(), ct);
        }, ct);
        var ok = outcomes.Where(o => o.Device is not null).Select(o => new ImportedDevice(o.Line, o.Device!.Id, o.Device.Imei)).ToList();
        var bad = outcomes.Where(o => o.Device is null).Select(o => new ImportError(o.Line, o.Refused!)).ToList();
        return TypedResults.Ok(new ImportResult(ok.Count, bad.Count, ok, bad));
    }

    private static async Task<Results<Ok<Page<DeviceView>>, ValidationProblem, ProblemHttpResult>> List(ClaimsPrincipal user, LienDb db,
        string? search, string? status, int? limit, string? after, CancellationToken ct)
    {
        var errors = new Errors().Text(search, "search", 64).Text(status, "status", 16).Text(after, "after", 64);
        if (errors.Any) return errors.Problem();
        if (!Paging.TryCursor(after, out var cursor)) return TypedResults.Problem(statusCode: 400, title: "Bad cursor", detail: "after must be the cursor returned as next by the previous page.");
        var lenderId = user.LenderId();
        var q = db.Devices.AsNoTracking().Where(d => d.LenderId == lenderId);
        if (!string.IsNullOrWhiteSpace(search))
        {
            var s = search.Trim();
            q = q.Where(d => d.Imei.StartsWith(s) || (d.Imei2 != null && d.Imei2.StartsWith(s)) || d.Serial == s);
        }
        switch (status)
        {
            case null or "": break;
            case "released": q = q.Where(d => d.ReleasedAt != null); break;
            case "locked": q = q.Where(d => d.LeaseMode == LeaseMode.Locked); break;
            case "unlocked": q = q.Where(d => d.LeaseMode == LeaseMode.Unlocked); break;
            case "enrolled": q = q.Where(d => d.EnrolledAt != null); break;
            default: return TypedResults.Problem(statusCode: 400, title: "Bad status", detail: "status must be one of: locked, unlocked, released, enrolled.");
        }
        if (cursor is { } c) q = q.Where(d => d.Id.CompareTo(c) > 0);
        var n = Paging.Limit(limit);
        var devices = await q.OrderBy(d => d.Id).Take(n + 1).ToListAsync(ct);
        var page = devices.Take(n).ToList();
        var ids = page.Select(d => d.Id).ToList();
        var plans = await db.Plans.AsNoTracking().Where(p => ids.Contains(p.DeviceId) && p.Lifecycle == PlanLifecycle.Active)
            .Select(p => new { p.DeviceId, p.Id }).ToDictionaryAsync(p => p.DeviceId, p => p.Id, ct);
        var seen = await db.DeviceSightings.AsNoTracking().Where(x => ids.Contains(x.DeviceId)).ToDictionaryAsync(x => x.DeviceId, x => x.LastSeenAt, ct);
        var items = page.Select(d => View(d, plans.TryGetValue(d.Id, out var p) ? p : null, seen.TryGetValue(d.Id, out var s) ? s : null)).ToList();
        return TypedResults.Ok(new Page<DeviceView>(items, devices.Count > n ? Paging.Cursor(page[^1].Id) : null));
    }

    private static async Task<Results<Ok<DeviceView>, ProblemHttpResult>> Get(Guid id, ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var d = await db.Devices.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id && x.LenderId == lenderId, ct);
        if (d is null) return Problems.NotFound("No such device.");
        var plan = await db.Plans.AsNoTracking().Where(p => p.DeviceId == id && p.Lifecycle == PlanLifecycle.Active).Select(p => (Guid?)p.Id).FirstOrDefaultAsync(ct);
        var seen = await db.DeviceSightings.AsNoTracking().Where(x => x.DeviceId == id).Select(x => (DateTimeOffset?)x.LastSeenAt).FirstOrDefaultAsync(ct);
        return TypedResults.Ok(View(d, plan, seen));
    }

    public static DeviceView View(Device d, Guid? plan, DateTimeOffset? lastSeen = null) => new(d.Id, d.Imei, d.Imei2, d.Serial, d.Make, d.Model, d.CreatedAt,
        d.ReleasedAt, d.EnrolledAt, lastSeen, d.LeaseSeq, d.LeaseMode, d.AppliedSeq, plan, new WrongCodesView(d.WrongCodes, d.WrongCodesReportedAt),
        d.EnrolledWith, d.RefusedAcks);
}
