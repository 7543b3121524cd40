using System.Text.Json;
using Lien.Server.Audit;
using Lien.Server.Leases;
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
        var key = LeaseSigner.NewKey(lender.Id, box, now);
        lender.TrustKeysJson = JsonSerializer.Serialize(LeaseSigner.TrustKeysOf([key]), Api.Json.Options);
        var (id, token, hash) = ApiKeyAuthentication.NewKey();
        db.Lenders.Add(lender);
        db.LenderKeys.Add(key);
        db.ApiKeys.Add(new ApiKey { Id = id, LenderId = lender.Id, Name = "first admin key", Role = ApiRole.Admin, SecretHash = hash, CreatedAt = now });
        await audit.RecordAsync(lender.Id, actor, "lender.created", $"lender:{lender.Id}", data: LenderSettings.Of(lender), ct: ct);
        await audit.RecordAsync(lender.Id, actor, "api-key.created", $"api-key:{id}", data: new { role = ApiRole.Admin }, ct: ct);
        await db.SaveChangesAsync(ct); // within the caller's transaction: what follows may sign leases with the key
        return (lender, token);
    }

    /// <summary>Adds a new signing key; the old ones are retired but stay published so leases they signed still verify.</summary>
    public static async Task<LenderKey> RotateKeyAsync(LienDb db, SecretBox box, Lender lender, DateTimeOffset now, CancellationToken ct)
    {
        var keys = await db.LenderKeys.Where(k => k.LenderId == lender.Id).ToListAsync(ct);
        foreach (var k in keys.Where(k => k.RetiredAt is null)) k.RetiredAt = now;
        var key = LeaseSigner.NewKey(lender.Id, box, now);
        db.LenderKeys.Add(key);
        lender.TrustKeysJson = JsonSerializer.Serialize(LeaseSigner.TrustKeysOf([.. keys, key]), Api.Json.Options);
        return key;
    }

    public static Task<LenderKey> ActiveKeyAsync(LienDb db, Guid lenderId, CancellationToken ct) =>
        db.LenderKeys.Where(k => k.LenderId == lenderId && k.RetiredAt == null).OrderByDescending(k => k.CreatedAt).FirstAsync(ct);
}
