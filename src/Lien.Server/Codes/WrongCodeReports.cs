using Lien.Server.Audit;
using Lien.Server.Devices;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Codes;

/// <summary>
/// The wrong-code count a phone reports at check-in (<c>wrongCodes</c>, cumulative since it enrolled): stored on the
/// device when it changed, and audited (<c>device.wrong-codes</c>) when it first reaches <see cref="AuditThreshold"/>
/// for an enrollment — past the agent's free wrong codes, so a borrower's typos stay out of the trail and someone
/// guessing codes on the lock screen does not.
/// </summary>
internal sealed class WrongCodeReports(LienDb db, AuditTrail audit)
{
    /// <summary>The agent's free wrong codes (PROTOCOL §7): from the next one on, it makes whoever types wait.</summary>
    public const int AuditThreshold = 6;

    /// <summary>
    /// Stores <paramref name="reported"/> for the enrollment <paramref name="tokenEpoch"/> (a report from before a
    /// re-enrollment must not land on the new one); <paramref name="previous"/> is what the check-in read.
    /// </summary>
    public async Task RecordAsync(Guid deviceId, int tokenEpoch, int previous, int reported, DateTimeOffset now, CancellationToken ct)
    {
        var report = db.Devices.Where(d => d.Id == deviceId && d.TokenEpoch == tokenEpoch && d.WrongCodes != reported);
        if (previous >= AuditThreshold || reported < AuditThreshold)
        {
            using (await db.WriteGateAsync(ct))
                await Store(report, reported, now, ct);
            return;
        }
        await db.InTransactionAsync(async () =>
        {
            var lenderId = await report.Select(d => (Guid?)d.LenderId).FirstOrDefaultAsync(ct);
            // Audited by the writer whose update landed: of two check-ins crossing at once, one.
            if (lenderId is null || await Store(report, reported, now, ct) == 0) return false;
            await audit.RecordAsync(lenderId.Value, $"device:{deviceId}", AuditAction.DeviceWrongCodes, $"device:{deviceId}",
                $"The phone has refused {reported} wrong offline codes since it enrolled: someone may be guessing codes on its lock screen.",
                data: new { wrongCodes = reported }, ct: ct);
            return true;
        }, ct);
    }

    private static Task<int> Store(IQueryable<Device> report, int reported, DateTimeOffset now, CancellationToken ct) =>
        report.ExecuteUpdateAsync(u => u.SetProperty(d => d.WrongCodes, reported).SetProperty(d => d.WrongCodesReportedAt, now), ct);
}
