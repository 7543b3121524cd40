using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.LienCheck;

/// <summary>What the public is told of an IMEI.</summary>
internal enum LienStatus
{
    /// <summary>A lender registered the IMEI and has not released it: the phone may lock if its plan is not paid.</summary>
    Financed,
    /// <summary>Every lender that registered the IMEI has released it.</summary>
    Released,
    /// <summary>No lender on this server has registered the IMEI.</summary>
    Unknown,
}

/// <summary>
/// The public lien register: an IMEI's status and, while it is financed, the lender's name — nothing about the borrower,
/// the plan or the amounts. Two indexed reads (the IMEI's claims; the lender's name when one holds it).
/// </summary>
internal sealed class LienRegister(LienDb db)
{
    public async Task<(LienStatus Status, string? Lender)> CheckAsync(string imei, CancellationToken ct)
    {
        var claims = await db.DeviceImeis.AsNoTracking().Where(c => c.Imei == imei).Select(c => new { c.LenderId, c.ReleasedAt }).ToListAsync(ct);
        if (claims.FirstOrDefault(c => c.ReleasedAt == null) is { } held)
            return (LienStatus.Financed, await db.Lenders.AsNoTracking().Where(l => l.Id == held.LenderId).Select(l => l.Name).FirstAsync(ct));
        return (claims.Count > 0 ? LienStatus.Released : LienStatus.Unknown, null);
    }

    /// <summary>What the status means, for the person asking.</summary>
    public static string Explain(LienStatus status, string? lender) => status switch
    {
        LienStatus.Financed => $"This phone is financed by {lender}: it is locked if its installments go unpaid. Ask the seller for the lender's payoff certificate before you buy it.",
        LienStatus.Released => "This phone was financed and has been released: no lender on this server can lock it.",
        _ => "No lender on this server has registered this phone. Lenders on other systems are not covered by this check.",
    };
}
