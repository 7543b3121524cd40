using System.Security.Cryptography;
using System.Text;
using Lien.Protocol.Codes;
using Lien.Server.Audit;
using Lien.Server.Devices;
using Lien.Server.Lenders;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Codes;

/// <summary>What became of a request for an offline code or for an approval of one.</summary>
internal abstract record CodeOutcome
{
    /// <summary>
    /// Issued and committed. <see cref="Digits"/> is the code itself, for the caller alone: it is kept sealed and never shown
    /// again. <see cref="TimeDivider"/> is the lender's code units per day, for showing days.
    /// </summary>
    public sealed record Issued(IssuedCode Code, string Digits, int TimeDivider, string? ApprovedBy) : CodeOutcome;

    /// <summary>An approval granted (and audited): the token the issuer passes on, and what it allows.</summary>
    public sealed record Approved(string Token, CodeApproval Approval) : CodeOutcome;

    /// <summary>Nothing was issued; <see cref="Detail"/> says why.</summary>
    public sealed record Refused(CodeRefusal Reason, string Detail) : CodeOutcome;
}

internal enum CodeRefusal { UnknownDevice, NotEnrolled, NoActivePlan, PaidOff, StillOverdue, TooManyDays, NeedsApproval }

/// <summary>A request for a code: its type, days (AddTime and SetTime), why, and an admin's approval where one is needed.</summary>
internal sealed record CodeRequest(TokenType Type, int? Days, string Reason, string? Approval = null);

/// <summary>Who asks: the actor audit events name, and the API key it is, if it is one.</summary>
internal sealed record CodeCaller(string Actor, string? KeyId);

/// <summary>
/// Offline unlock codes (OpenPAYGO Token): the per-device secret made afresh at each accepted enrollment, and codes
/// issued from the newest one with a count that is never reused for the device. Every entry point that hands a borrower a code (API, console, SMS, USSD) comes here.
/// A code's digits are a credential: they are kept sealed and shown once, to whoever issued it. DisablePayg frees a phone
/// for good, so it needs a paid-off plan (or a released device) or a second approver, an admin (<see cref="CodeApprovals"/>).
/// </summary>
internal sealed class CodeIssuer(LienDb db, SecretBox box, CodeApprovals approvals, AuditTrail audit, TimeProvider time)
{
    public const string SecretPurpose = "device-code-secret";
    public const string DigitsPurpose = "issued-code-digits";

    private const string TwoWays = "DisablePayg frees the phone for good, so it is issued only for a device whose plan is paid off (or that is " +
        "released), or with an admin's approval: an admin API key other than the issuer's calls POST /v1/devices/{id}/codes/approvals " +
        "and the issuer passes the approval it gets (good for 15 minutes and one code) as `approval`.";

    /// <summary>
    /// Gives a device that is being enrolled a fresh code secret and random starting code, and clears its wrong-code
    /// report; returns the secret, to be sealed to the enrolled key. A fresh secret for every enrollment means whoever
    /// enrolled as the phone before (or still holds an earlier secret) can derive no code the phone now accepts; codes
    /// issued from here on are for this secret only. The count carries on from the last code issued: it is never reused
    /// for a device (it keys the issued codes and makes an approval single-use), and under a fresh secret and starting
    /// code a count that carries on reveals no more than one that starts again.
    /// </summary>
    public byte[] NewSecret(Device device)
    {
        var secret = RandomNumberGenerator.GetBytes(16);
        device.CodeSecretSealed = box.Seal(secret, SecretPurpose);
        device.CodeStartingCode = RandomNumberGenerator.GetInt32(1_000_000_000);
        device.CodeSecretVersion++; // a code being issued for the old secret meanwhile conflicts here and is redone
        device.WrongCodes = 0;
        device.WrongCodesReportedAt = null;
        return secret;
    }

    /// <summary>
    /// Issues one code for the device. AddTime without days gives the days until the next installment's lock instant (its
    /// due date plus grace), so the code carries the borrower exactly to their next deadline.
    /// </summary>
    public Task<CodeOutcome> IssueAsync(Guid lenderId, Guid deviceId, CodeRequest request, CodeCaller caller, CancellationToken ct) =>
        db.InTransactionAsync<CodeOutcome>(async () =>
        {
            await db.LockLenderIfRedoingAsync(lenderId, ct);
            var (type, days, reason) = (request.Type, request.Days, request.Reason);
            var device = await db.Devices.FirstOrDefaultAsync(d => d.Id == deviceId && d.LenderId == lenderId, ct);
            if (device is null) return new CodeOutcome.Refused(CodeRefusal.UnknownDevice, "No such device.");
            if (device.CodeSecretSealed is null)
                return new CodeOutcome.Refused(CodeRefusal.NotEnrolled,
                    "The device has not enrolled yet, so it holds no code secret; codes work once its agent has enrolled.");
            string? approvedBy = null;
            if (request.Approval is { } token)
            {
                var (approver, refusal) = await CheckApprovalAsync(token, lenderId, device, type, caller, ct);
                if (approver is null) return new CodeOutcome.Refused(CodeRefusal.NeedsApproval, $"{refusal} {TwoWays}");
                approvedBy = approver;
            }
            else if (type == TokenType.DisablePayg && device.ReleasedAt is null
                     && !await db.Plans.AnyAsync(p => p.DeviceId == deviceId && p.Lifecycle == PlanLifecycle.PaidOff, ct))
                return new CodeOutcome.Refused(CodeRefusal.NeedsApproval, $"The device's plan is not paid off. {TwoWays}");
            var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == lenderId, ct);
            double wanted = days ?? 0;
            if (type == TokenType.AddTime && days is null)
            {
                var plan = await db.Plans.AsNoTracking().Include(p => p.Installments)
                    .FirstOrDefaultAsync(p => p.DeviceId == deviceId && p.Lifecycle == PlanLifecycle.Active, ct);
                if (plan is null) return new CodeOutcome.Refused(CodeRefusal.NoActivePlan, "The device has no active plan to compute days from; give days.");
                var terms = lender.Terms();
                var now = time.GetUtcNow();
                var firstUnpaid = plan.State(lender, now).Allocation.Installments.FirstOrDefault(i => i.Outstanding > 0);
                if (firstUnpaid is null) return new CodeOutcome.Refused(CodeRefusal.PaidOff, "The plan is paid off: issue DisablePayg to release the device.");
                var lockAt = Policy.LockInstant(firstUnpaid.Installment, terms);
                wanted = Math.Ceiling((lockAt - now).TotalDays);
                if (wanted < 1)
                    return new CodeOutcome.Refused(CodeRefusal.StillOverdue,
                        $"Installment {firstUnpaid.Installment.Number} is still past its grace; a payment must come first (or give days).");
            }
            var value = type switch
            {
                TokenType.DisablePayg => OpenPaygoToken.DisablePaygValue,
                TokenType.CounterSync => OpenPaygoToken.CounterSyncValue,
                _ => (int)Math.Min(wanted * lender.CodeTimeDivider, int.MaxValue),
            };
            if (type is TokenType.AddTime or TokenType.SetTime && value > OpenPaygoToken.MaxValue)
                return new CodeOutcome.Refused(CodeRefusal.TooManyDays,
                    $"A code carries at most {OpenPaygoToken.MaxValue / lender.CodeTimeDivider} days with this lender's time divider.");

            var secret = box.Open(device.CodeSecretSealed, SecretPurpose);
            var tokenDevice = new TokenDevice(SipHashKey.FromBytes(secret), device.CodeStartingCode, lender.CodeRestrictedDigitSet);
            var issued = TokenEncoder.Encode(tokenDevice, device.CodeCount, type, value);
            device.CodeCount = issued.NewCount; // a concurrent issue for this device conflicts here and is redone
            var row = new IssuedCode
            {
                DeviceId = device.Id,
                SecretVersion = device.CodeSecretVersion,
                Count = issued.NewCount,
                LenderId = lenderId,
                Type = type,
                Value = value,
                Code = Convert.ToBase64String(box.Seal(Encoding.ASCII.GetBytes(issued.Token), DigitsPurpose)),
                IssuedAt = time.GetUtcNow(),
                Actor = caller.Actor,
                Reason = reason,
            };
            db.IssuedCodes.Add(row);
            await audit.RecordAsync(lenderId, caller.Actor, AuditAction.CodeIssued, $"device:{device.Id}", reason,
                data: new { type, value, days = value / (double)lender.CodeTimeDivider, count = issued.NewCount, secretVersion = device.CodeSecretVersion, approvedBy }, ct: ct);
            return new CodeOutcome.Issued(row, issued.Token, lender.CodeTimeDivider, approvedBy);
        }, ct);

    /// <summary>
    /// An admin's approval of one <paramref name="type"/> code for the device, good for <see cref="CodeApprovals.Lifetime"/>
    /// and audited; the token binds the approving key, which must not be the issuer's.
    /// </summary>
    public Task<CodeOutcome> ApproveAsync(Guid lenderId, Guid deviceId, TokenType type, string reason, CodeCaller approver, CancellationToken ct) =>
        db.InTransactionAsync<CodeOutcome>(async () =>
        {
            var device = await db.Devices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deviceId && d.LenderId == lenderId, ct);
            if (device is null) return new CodeOutcome.Refused(CodeRefusal.UnknownDevice, "No such device.");
            if (approver.KeyId is null) return new CodeOutcome.Refused(CodeRefusal.NeedsApproval, "Only an admin API key can approve a code.");
            // Whole seconds: the token carries them.
            var expiresAt = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds()) + CodeApprovals.Lifetime;
            var approval = new CodeApproval(deviceId, device.CodeCount, approver.KeyId, expiresAt);
            await audit.RecordAsync(lenderId, approver.Actor, AuditAction.CodeApprovalGranted, $"device:{deviceId}", reason,
                data: new { type, count = device.CodeCount, expiresAt }, ct: ct);
            return new CodeOutcome.Approved(approvals.Grant(lenderId, device.CodeSecretVersion, type, approval), approval);
        }, ct);

    // The approver's actor name when the approval holds for this code now; otherwise why it does not.
    private async Task<(string? Approver, string Refusal)> CheckApprovalAsync(string token, Guid lenderId, Device device, TokenType type,
        CodeCaller caller, CancellationToken ct)
    {
        if (approvals.Check(token, lenderId, device.CodeSecretVersion, device.Id, type, time.GetUtcNow(), out var refusal) is not { } approval)
            return (null, refusal);
        if (approval.ApproverKeyId == caller.KeyId)
            return (null, "The approval was granted by the API key that is issuing the code; it must come from another admin key.");
        var key = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Id == approval.ApproverKeyId && k.LenderId == lenderId, ct);
        if (key is not { Role: ApiRole.Admin, RevokedAt: null })
            return (null, $"The approval's key {approval.ApproverKeyId} is no longer an admin key of this lender.");
        if (approval.Count != device.CodeCount)
            return (null, "The approval has been used: a code was issued for the device after it was granted.");
        return ($"api-key:{key.Id}", "");
    }

    /// <summary>
    /// Seals the digits of codes an earlier version kept in clear (a sealed code is base64 of 38 bytes or more, a clear one
    /// at most 20 digits), so no database reader finds a working code. Returns how many it sealed.
    /// </summary>
    public async Task<int> SealClearCodesAsync(CancellationToken ct)
    {
        const int batch = 500;
        for (var total = 0; ; db.ChangeTracker.Clear())
        {
            var sealedNow = await db.InTransactionAsync(async () =>
            {
                var clear = await db.IssuedCodes.Where(c => c.Code.Length <= 20).OrderBy(c => c.DeviceId).ThenBy(c => c.Count).Take(batch).ToListAsync(ct);
                foreach (var c in clear) c.Code = Convert.ToBase64String(box.Seal(Encoding.ASCII.GetBytes(c.Code), DigitsPurpose));
                return clear.Count;
            }, ct);
            total += sealedNow;
            if (sealedNow < batch) return total;
        }
    }
}

/// <summary>Once at start: seals the digits of codes an earlier version kept in clear (<see cref="CodeIssuer.SealClearCodesAsync"/>).</summary>
internal sealed class ClearCodeSealing(IServiceScopeFactory scopes, ILogger<ClearCodeSealing> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var count = await scope.ServiceProvider.GetRequiredService<CodeIssuer>().SealClearCodesAsync(stoppingToken);
            if (count > 0) log.LogInformation("Sealed the digits of {Count} offline codes an earlier version kept in clear.", count);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e) // the server still serves; the next start tries again
        {
            log.LogError(e, "Could not seal the offline codes an earlier version kept in clear; their digits stay readable in the database until a start succeeds.");
        }
    }
}
