using System.Security.Claims;
using Lien.Protocol.Codes;
using Lien.Server.Api;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Codes;

internal sealed record IssueCode(TokenType? Type, int? Days, string? Reason, string? Approval);
internal sealed record ApproveCode(TokenType? Type, string? Reason);

/// <summary>A code just issued, as its issuer gets it: the only time its digits are shown.</summary>
internal sealed record CodeView(string Code, string Display, TokenType Type, int Value, double Days, int Count, DateTimeOffset IssuedAt, string Actor,
    string Reason, string? ApprovedBy);

/// <summary>
/// An issued code as listed: everything but its digits. <see cref="SecretVersion"/> is the device secret it was made with
/// (each enrollment gets a fresh one); <see cref="Current"/> is false once the phone enrolled
/// again, when the code no longer works on it.
/// </summary>
internal sealed record IssuedCodeView(TokenType Type, int Value, double Days, int Count, DateTimeOffset IssuedAt, string Actor, string Reason,
    int SecretVersion, bool Current);

/// <summary>An admin's approval of one code, for the issuer to pass as <c>approval</c>.</summary>
internal sealed record CodeApprovalView(string Approval, TokenType Type, Guid DeviceId, int Count, string ApprovedBy, DateTimeOffset ExpiresAt);

/// <summary>
/// Offline unlock codes (OpenPAYGO Token) for a device: the call centre, SMS or USSD gives the borrower a code that
/// extends, sets or ends the device's unlocked time without any data connection. See docs/PROTOCOL.md §7.
/// </summary>
internal static class CodeEndpoints
{
    public static IServiceCollection AddCodes(this IServiceCollection services) => services
        .AddScoped<CodeIssuer>()
        .AddScoped<WrongCodeReports>()
        .AddSingleton<CodeApprovals>()
        .AddHostedService<ClearCodeSealing>();

    public static IEndpointRouteBuilder MapCodes(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/devices/{deviceId:guid}/codes").WithTags("Offline codes");
        g.MapPost("", Issue).RequireAuthorization(Roles.Operator)
            .WithDescription("The answer is the only place the code's digits are shown. AddTime without days: the days until the next installment's " +
                             "lock instant (due date plus grace). DisablePayg frees the phone for good: it needs a paid-off plan (or a released " +
                             "device), or `approval` from POST /v1/devices/{id}/codes/approvals by another admin key.");
        g.MapGet("", List).RequireAuthorization(Roles.Viewer)
            .WithDescription("Every code issued for the device, newest first: count, type, value, days, who, when and why, and the device secret " +
                             "it was made with (`secretVersion`; `current` false once the phone enrolled again and the code stopped working); never the digits.");
        g.MapPost("approvals", Approve).RequireAuthorization(Roles.Admin)
            .WithDescription("An admin's approval of one DisablePayg code for the device by another API key: good for 15 minutes and one code, audited.");
        return app;
    }

    private static async Task<Results<Created<CodeView>, ValidationProblem, ProblemHttpResult>> Issue(Guid deviceId, IssueCode body, ClaimsPrincipal user,
        CodeIssuer issuer, CancellationToken ct)
    {
        var errors = new Errors()
            .Check(body.Type is not null && Enum.IsDefined(body.Type.Value), "type", "type must be AddTime, SetTime, DisablePayg or CounterSync.")
            .Text(body.Reason, "reason", 500, required: true, lines: true)
            .Check(body.Days is null or (>= 0 and <= 995), "days", "days must be between 0 and 995.")
            .Check(body.Type is not TokenType.SetTime || body.Days is not null, "days", "SetTime needs days.")
            .Text(body.Approval, "approval", 200)
            .Check(body.Approval is null || body.Type is TokenType.DisablePayg, "approval", "approval is for DisablePayg codes only.");
        if (errors.Any) return errors.Problem();
        var request = new CodeRequest(body.Type!.Value, body.Days, body.Reason!, body.Approval);
        return await issuer.IssueAsync(user.LenderId(), deviceId, request, Caller(user), ct) switch
        {
            CodeOutcome.Issued i => TypedResults.Created($"/v1/devices/{deviceId}/codes", View(i)),
            CodeOutcome.Refused { Reason: CodeRefusal.UnknownDevice } r => Problems.NotFound(r.Detail),
            CodeOutcome.Refused { Reason: CodeRefusal.TooManyDays } r => Problems.Unprocessable("Too many days for one code", r.Detail),
            CodeOutcome.Refused r => Problems.Conflict(r.Detail),
            var other => throw new InvalidOperationException($"Unexpected code outcome {other}."),
        };
    }

    private static async Task<Results<Ok<CodeApprovalView>, ValidationProblem, ProblemHttpResult>> Approve(Guid deviceId, ApproveCode body, ClaimsPrincipal user,
        CodeIssuer issuer, CancellationToken ct)
    {
        var errors = new Errors()
            .Check(body.Type is TokenType.DisablePayg, "type", "Only DisablePayg codes need an approval; type must be DisablePayg.")
            .Text(body.Reason, "reason", 500, required: true);
        if (errors.Any) return errors.Problem();
        return await issuer.ApproveAsync(user.LenderId(), deviceId, body.Type!.Value, body.Reason!, Caller(user), ct) switch
        {
            CodeOutcome.Approved(var token, var a) => TypedResults.Ok(new CodeApprovalView(token, body.Type.Value, a.DeviceId, a.Count,
                $"api-key:{a.ApproverKeyId}", a.ExpiresAt)),
            CodeOutcome.Refused { Reason: CodeRefusal.UnknownDevice } r => Problems.NotFound(r.Detail),
            CodeOutcome.Refused r => Problems.Conflict(r.Detail),
            var other => throw new InvalidOperationException($"Unexpected code outcome {other}."),
        };
    }

    private static async Task<Results<Ok<List<IssuedCodeView>>, ProblemHttpResult>> List(Guid deviceId, ClaimsPrincipal user, LienDb db, CancellationToken ct)
    {
        var lenderId = user.LenderId();
        var current = await db.Devices.Where(d => d.Id == deviceId && d.LenderId == lenderId).Select(d => (int?)d.CodeSecretVersion).FirstOrDefaultAsync(ct);
        if (current is null) return Problems.NotFound("No such device.");
        var divider = await db.Lenders.Where(l => l.Id == lenderId).Select(l => l.CodeTimeDivider).FirstAsync(ct);
        var rows = await db.IssuedCodes.AsNoTracking().Where(c => c.DeviceId == deviceId).OrderByDescending(c => c.Count)
            .Select(c => new { c.Type, c.Value, c.Count, c.IssuedAt, c.Actor, c.Reason, c.SecretVersion }) // never the sealed digits
            .ToListAsync(ct);
        return TypedResults.Ok(rows.Select(r => new IssuedCodeView(r.Type, r.Value, Days(r.Type, r.Value, divider), r.Count, r.IssuedAt, r.Actor, r.Reason,
            r.SecretVersion, r.SecretVersion == current)).ToList());
    }

    private static CodeCaller Caller(ClaimsPrincipal user) => new(user.Actor(), user.FindFirstValue(Principals.KeyClaim));

    // Read out in groups of three: "123 456 789".
    private static CodeView View(CodeOutcome.Issued i) => new(i.Digits, string.Join(' ', i.Digits.Chunk(3).Select(g => new string(g))), i.Code.Type,
        i.Code.Value, Days(i.Code.Type, i.Code.Value, i.TimeDivider), i.Code.Count, i.Code.IssuedAt, i.Code.Actor, i.Code.Reason, i.ApprovedBy);

    private static double Days(TokenType type, int value, int divider) => type is TokenType.AddTime or TokenType.SetTime ? value / (double)divider : 0;
}
