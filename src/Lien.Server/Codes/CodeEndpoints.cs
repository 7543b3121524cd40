using System.Security.Claims;
using Lien.Protocol.Codes;
using Lien.Server.Api;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Codes;

internal sealed record IssueCode(TokenType? Type, int? Days, string? Reason);
internal sealed record CodeView(string Code, string Display, TokenType Type, int Value, double Days, int Count, DateTimeOffset IssuedAt, string Actor, string Reason);

/// <summary>
/// Offline unlock codes (OpenPAYGO Token) for a device: the call centre, SMS or USSD gives the borrower a code that
/// extends, sets or ends the device's unlocked time without any data connection. See docs/PROTOCOL.md §7.
/// </summary>
internal static class CodeEndpoints
{
    public static IServiceCollection AddCodes(this IServiceCollection services) => services.AddScoped<CodeIssuer>();

    public static IEndpointRouteBuilder MapCodes(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/devices/{deviceId:guid}/codes").WithTags("Offline codes");
        g.MapPost("", Issue).RequireAuthorization(Roles.Operator)
            .WithDescription("AddTime without days: the days until the next installment's lock instant (due date plus grace). DisablePayg releases a paid-off device.");
        g.MapGet("", List).RequireAuthorization(Roles.Viewer);
        return app;
    }

    private static async Task<Results<Created<CodeView>, ValidationProblem, ProblemHttpResult>> Issue(Guid deviceId, IssueCode body, ClaimsPrincipal user,
        CodeIssuer issuer, CancellationToken ct)
    {
        var errors = new Errors()
            .Check(body.Type is not null && Enum.IsDefined(body.Type.Value), "type", "type must be AddTime, SetTime, DisablePayg or CounterSync.")
            .Text(body.Reason, "reason", 500, required: true, lines: true)
            .Check(body.Days is null or (>= 0 and <= 995), "days", "days must be between 0 and 995.")
            .Check(body.Type is not TokenType.SetTime || body.Days is not null, "days", "SetTime needs days.");
        if (errors.Any) return errors.Problem();
        return await issuer.IssueAsync(user.LenderId(), deviceId, body.Type!.Value, body.Days, body.Reason!, user.Actor(), ct) switch
        {
            CodeOutcome.Issued(var code, var divider) => TypedResults.Created($"/v1/devices/{deviceId}/codes", View(code, divider)),
            CodeOutcome.Refused { Reason: CodeRefusal.UnknownDevice } r => Problems.NotFound(r.Detail),
            CodeOutcome.Refused { Reason: CodeRefusal.TooManyDays } r => Problems.Unprocessable("Too many days for one code", r.Detail),
            CodeOutcome.Refused r => Problems.Conflict(r.Detail),
            var other => throw new InvalidOperationException($"Unexpected code outcome {other}."),
        };
    }

    private static async Task<Results<Ok<List<CodeView>>, ProblemHttpResult>> List(Guid deviceId, ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        if (!await db.Devices.AnyAsync(d => d.Id == deviceId && d.LenderId == lenderId, ct)) return Problems.NotFound("No such device.");
        var divider = await db.Lenders.Where(l => l.Id == lenderId).Select(l => l.CodeTimeDivider).FirstAsync(ct);
        var rows = await db.IssuedCodes.AsNoTracking().Where(c => c.DeviceId == deviceId).OrderByDescending(c => c.Count).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(r => View(r, divider)).ToList());
    }

    // Read out in groups of three: "123 456 789".
    private static CodeView View(IssuedCode c, int divider) => new(c.Code, string.Join(' ', c.Code.Chunk(3).Select(g => new string(g))), c.Type, c.Value,
        c.Type is TokenType.AddTime or TokenType.SetTime ? c.Value / (double)divider : 0, c.Count, c.IssuedAt, c.Actor, c.Reason);
}
