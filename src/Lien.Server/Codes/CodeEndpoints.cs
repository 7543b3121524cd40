using System.Security.Claims;
using System.Security.Cryptography;
using Lien.Protocol;
using Lien.Protocol.Codes;
using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Devices;
using Lien.Server.Leases;
using Lien.Server.Lenders;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Codes;

/// <summary>An offline code as issued: kept so the call centre can read it out again, and audited.</summary>
internal sealed class IssuedCode
{
    public Guid DeviceId { get; set; }
    public int Count { get; set; }
    public Guid LenderId { get; set; }
    public TokenType Type { get; set; }
    public int Value { get; set; }
    public required string Code { get; set; }
    public DateTimeOffset IssuedAt { get; set; }
    public required string Actor { get; set; }
    public required string Reason { get; set; }
}

internal sealed record IssueCode(TokenType? Type, int? Days, string? Reason);
internal sealed record CodeView(string Code, string Display, TokenType Type, int Value, double Days, int Count, DateTimeOffset IssuedAt, string Actor, string Reason);

/// <summary>
/// Offline unlock codes (OpenPAYGO Token) for a device: the call centre, SMS or USSD gives the borrower a code that
/// extends, sets or ends the device's unlocked time without any data connection. See docs/PROTOCOL.md §7.
/// </summary>
internal static class CodeEndpoints
{
    public const string SecretPurpose = "device-code-secret";

    public static IEndpointRouteBuilder MapCodes(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/devices/{deviceId:guid}/codes").WithTags("Offline codes");
        g.MapPost("", Issue).RequireAuthorization(Roles.Operator)
            .WithDescription("AddTime without days: the days until the next installment's lock instant (due date plus grace). DisablePayg releases a paid-off device.");
        g.MapGet("", List).RequireAuthorization(Roles.Viewer);
        return app;
    }

    /// <summary>Gives a device its code secret and starting code at first enrollment; they stay through re-enrollments.</summary>
    public static byte[] EnsureSecret(Device device, SecretBox box)
    {
        if (device.CodeSecretSealed is not null) return box.Open(device.CodeSecretSealed, SecretPurpose);
        var secret = RandomNumberGenerator.GetBytes(16);
        device.CodeSecretSealed = box.Seal(secret, SecretPurpose);
        device.CodeStartingCode = RandomNumberGenerator.GetInt32(1_000_000_000);
        return secret;
    }

    private static async Task<Results<Created<CodeView>, ValidationProblem, ProblemHttpResult>> Issue(Guid deviceId, IssueCode body, ClaimsPrincipal user,
        LienDb db, SecretBox box, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var errors = new Errors()
            .Check(body.Type is not null && Enum.IsDefined(body.Type.Value), "type", "type must be AddTime, SetTime, DisablePayg or CounterSync.")
            .Text(body.Reason, "reason", 500, required: true)
            .Check(body.Days is null or (>= 0 and <= 995), "days", "days must be between 0 and 995.")
            .Check(body.Type is not TokenType.SetTime || body.Days is not null, "days", "SetTime needs days.");
        if (errors.Any) return errors.Problem();
        var lenderId = user.LenderId();

        return await db.InTransactionAsync<Results<Created<CodeView>, ValidationProblem, ProblemHttpResult>>(async () =>
        {
            var device = await db.Devices.FirstOrDefaultAsync(d => d.Id == deviceId && d.LenderId == lenderId, ct);
            if (device is null) return Problems.NotFound("No such device.");
            if (device.CodeSecretSealed is null)
                return Problems.Conflict("The device has not enrolled yet, so it holds no code secret; codes work once its agent has enrolled.");
            var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == lenderId, ct);
            var type = body.Type!.Value;
            double days = body.Days ?? 0;
            if (type == TokenType.AddTime && body.Days is null)
            {
                var plan = await db.Plans.AsNoTracking().Include(p => p.Installments)
                    .FirstOrDefaultAsync(p => p.DeviceId == deviceId && p.Lifecycle == PlanLifecycle.Active, ct);
                if (plan is null) return Problems.Conflict("The device has no active plan to compute days from; give days.");
                var terms = lender.Terms();
                var state = Policy.StateOf(LeaseIssuer.TermsOf(plan), plan.PaidTotal, terms.TimeZone, time.GetUtcNow());
                var firstUnpaid = state.Allocation.Installments.FirstOrDefault(i => i.Outstanding > 0);
                if (firstUnpaid is null) return Problems.Conflict("The plan is paid off: issue DisablePayg to release the device.");
                var lockAt = Policy.LockInstant(firstUnpaid.Installment, terms);
                days = Math.Ceiling((lockAt - time.GetUtcNow()).TotalDays);
                if (days < 1) return Problems.Conflict($"Installment {firstUnpaid.Installment.Number} is still past its grace; a payment must come first (or give days).");
            }
            var value = type switch
            {
                TokenType.DisablePayg => OpenPaygoToken.DisablePaygValue,
                TokenType.CounterSync => OpenPaygoToken.CounterSyncValue,
                _ => (int)Math.Min(days * lender.CodeTimeDivider, int.MaxValue),
            };
            if (type is TokenType.AddTime or TokenType.SetTime && value > OpenPaygoToken.MaxValue)
                return Problems.Unprocessable("Too many days for one code", $"A code carries at most {OpenPaygoToken.MaxValue / lender.CodeTimeDivider} days with this lender's time divider.");

            var secret = box.Open(device.CodeSecretSealed, SecretPurpose);
            var tokenDevice = new TokenDevice(SipHashKey.FromBytes(secret), device.CodeStartingCode, lender.CodeRestrictedDigitSet);
            var issued = TokenEncoder.Encode(tokenDevice, device.CodeCount, type, value);
            device.CodeCount = issued.NewCount; // a concurrent issue for this device conflicts here and is redone
            var now = time.GetUtcNow();
            var row = new IssuedCode
            {
                DeviceId = device.Id, Count = issued.NewCount, LenderId = lenderId, Type = type, Value = value, Code = issued.Token,
                IssuedAt = now, Actor = user.Actor(), Reason = body.Reason!,
            };
            db.IssuedCodes.Add(row);
            await audit.RecordAsync(lenderId, user.Actor(), "code.issued", $"device:{device.Id}", body.Reason,
                data: new { type, value, days = value / (double)lender.CodeTimeDivider, count = issued.NewCount }, ct: ct);
            return TypedResults.Created($"/v1/devices/{deviceId}/codes", View(row, lender.CodeTimeDivider));
        }, ct);
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
