using Lien.Server.Audit;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Lenders;

internal static class LenderSetup
{
    /// <summary>Creates a lender with its first signing key and an admin API key; returns the key's token (shown once).</summary>
    public static async Task<(Lender Lender, string AdminToken)> CreateAsync(LienDb db, SecretBox box, AuditTrail audit,
        LenderSettings settings, DateTimeOffset now, string actor, CancellationToken ct = default)
    {
        var lender = new Lender
        {
            Id = Guid.CreateVersion7(now),
            Name = "",
            TimeZone = "",
            Currency = "",
            PolicyProfile = "standard",
            OfflineAllowanceSeconds = LenderSettings.DefaultOfflineAllowanceHours * 3600L,
            CreatedAt = now,
        };
        settings.ApplyTo(lender);
        var key = SigningKeys.Create(lender.Id, box, now);
        SigningKeys.Publish(lender, [key]);
        var (id, token, hash) = ApiKeyAuthentication.NewKey();
        db.Lenders.Add(lender);
        db.LenderKeys.Add(key);
        db.ApiKeys.Add(new ApiKey { Id = id, LenderId = lender.Id, Name = "first admin key", Role = ApiRole.Admin, SecretHash = hash, CreatedAt = now });
        await audit.RecordAsync(lender.Id, actor, AuditAction.LenderCreated, $"lender:{lender.Id}", data: LenderSettings.Of(lender), ct: ct);
        await audit.RecordAsync(lender.Id, actor, AuditAction.ApiKeyCreated, $"api-key:{id}", data: new { role = ApiRole.Admin }, ct: ct);
        await db.SaveChangesAsync(ct); // within the caller's transaction: what follows may sign leases with the key
        return (lender, token);
    }
}
