using System.Security.Cryptography;
using Lien.Protocol.Codes;
using Lien.Server.Audit;
using Lien.Server.Devices;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Codes;

/// <summary>What became of a request for an offline code.</summary>
internal abstract record CodeOutcome
{
    /// <summary>Issued and committed; <see cref="TimeDivider"/> is the lender's code units per day, for showing days.</summary>
    public sealed record Issued(IssuedCode Code, int TimeDivider) : CodeOutcome;

    /// <summary>Nothing was issued; <see cref="Detail"/> says why.</summary>
    public sealed record Refused(CodeRefusal Reason, string Detail) : CodeOutcome;
}

internal enum CodeRefusal { UnknownDevice, NotEnrolled, NoActivePlan, PaidOff, StillOverdue, TooManyDays }

/// <summary>
/// Offline unlock codes (OpenPAYGO Token): the per-device secret made at first enrollment, and codes issued from it
/// with a count that is never reused. Every entry point that hands a borrower a code (API, console, SMS, USSD) comes here.
/// </summary>
internal sealed class CodeIssuer(LienDb db, SecretBox box, AuditTrail audit, TimeProvider time)
{
    public const string SecretPurpose = "device-code-secret";

    /// <summary>Gives a device its code secret and starting code at first enrollment; they stay through re-enrollments.</summary>
    public byte[] EnsureSecret(Device device)
    {
        if (device.CodeSecretSealed is not null) return box.Open(device.CodeSecretSealed, SecretPurpose);
        var secret = RandomNumberGenerator.GetBytes(16);
        device.CodeSecretSealed = box.Seal(secret, SecretPurpose);
        device.CodeStartingCode = RandomNumberGenerator.GetInt32(1_000_000_000);
        return secret;
    }

    /// <summary>
    /// Issues one code for the device. AddTime without <paramref name="days"/> gives the days until the next installment's
    /// lock instant (its due date plus grace), so the code carries the borrower exactly to their next deadline.
    /// </summary>
    public Task<CodeOutcome> IssueAsync(Guid lenderId, Guid deviceId, TokenType type, int? days, string reason, string actor, CancellationToken ct) =>
        db.InTransactionAsync<CodeOutcome>(async () =>
        {
            var device = await db.Devices.FirstOrDefaultAsync(d => d.Id == deviceId && d.LenderId == lenderId, ct);
            if (device is null) return new CodeOutcome.Refused(CodeRefusal.UnknownDevice, "No such device.");
            if (device.CodeSecretSealed is null)
                return new CodeOutcome.Refused(CodeRefusal.NotEnrolled,
                    "The device has not enrolled yet, so it holds no code secret; codes work once its agent has enrolled.");
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
                Count = issued.NewCount,
                LenderId = lenderId,
                Type = type,
                Value = value,
                Code = issued.Token,
                IssuedAt = time.GetUtcNow(),
                Actor = actor,
                Reason = reason,
            };
            db.IssuedCodes.Add(row);
            await audit.RecordAsync(lenderId, actor, AuditAction.CodeIssued, $"device:{device.Id}", reason,
                data: new { type, value, days = value / (double)lender.CodeTimeDivider, count = issued.NewCount }, ct: ct);
            return new CodeOutcome.Issued(row, lender.CodeTimeDivider);
        }, ct);
}
