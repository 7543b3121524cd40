using Lien.Server.Audit;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Lenders;

/// <summary>
/// A lender's own set-up: the lender made (with its first signing key and admin API key), its settings, its signing
/// key rotated and retired keys revoked, its API keys made and revoked. Each change is audited in the same transaction.
/// </summary>
internal sealed class LenderSetup(LienDb db, SigningKeys keys, IRevokedKeyLeases leases, IRevokedKeyCertificates certificates, AuditTrail audit,
    ApiKeyCache apiKeys, TimeProvider time)
{
    /// <summary>
    /// Creates a lender with its first signing key and an admin API key, in the caller's transaction; returns the key's
    /// token (shown once).
    /// </summary>
    public async Task<(Lender Lender, string AdminToken)> CreateAsync(LenderSettings settings, string actor, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
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
        var key = keys.Create(lender.Id, now);
        keys.Publish(lender, [key], now);
        db.Lenders.Add(lender);
        db.LenderKeys.Add(key);
        await audit.RecordAsync(lender.Id, actor, AuditAction.LenderCreated, $"lender:{lender.Id}", data: LenderSettings.Of(lender), ct: ct);
        var (_, token) = await AddApiKeyAsync(lender.Id, "first admin key", ApiRole.Admin, actor, ct);
        await db.SaveChangesAsync(ct); // within the caller's transaction: what follows may sign leases with the key
        return (lender, token);
    }

    /// <summary>Applies the settings given (a null field is left as it is).</summary>
    public Task<Lender> UpdateAsync(Guid lenderId, LenderSettings settings, string actor, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            await db.LockLenderIfRedoingAsync(lenderId, ct);
            var l = await db.Lenders.FirstAsync(x => x.Id == lenderId, ct);
            settings.ApplyTo(l);
            await audit.RecordAsync(l.Id, actor, AuditAction.LenderUpdated, $"lender:{l.Id}", data: settings, ct: ct);
            return l;
        }, ct);

    /// <summary>A new signing key for new leases; the old ones stay published so the leases they signed still verify.</summary>
    public Task<Lender> RotateKeyAsync(Guid lenderId, string actor, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            await db.LockLenderIfRedoingAsync(lenderId, ct);
            var l = await db.Lenders.FirstAsync(x => x.Id == lenderId, ct);
            var key = await keys.RotateAsync(db, l, time.GetUtcNow(), ct);
            await audit.RecordAsync(l.Id, actor, AuditAction.LenderKeyRotated, $"key:{key.Kid}", ct: ct);
            return l;
        }, ct);

    /// <summary>
    /// Revokes the retired signing key <paramref name="kid"/>. Every device whose current lease that key signed gets the
    /// same lease again, re-signed by the active key, in the same transaction: a phone that follows the revocation still
    /// holds (and, after a reset, is given) a lease it can verify. Payoff certificates it signed are re-signed too.
    /// </summary>
    public Task<(KeyRevocation Outcome, Lender Lender)> RevokeKeyAsync(Guid lenderId, string kid, string actor, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            await db.LockLenderIfRedoingAsync(lenderId, ct);
            var l = await db.Lenders.FirstAsync(x => x.Id == lenderId, ct);
            var outcome = await keys.RevokeAsync(db, l, kid, time.GetUtcNow(), ct);
            if (outcome != KeyRevocation.Revoked) return (outcome, l);
            await audit.RecordAsync(l.Id, actor, AuditAction.LenderKeyRevoked, $"key:{kid}", ct: ct);
            await leases.ResignAsync(l, kid, actor, ct);
            await certificates.ResignAsync(l, kid, actor, ct);
            return (outcome, l);
        }, ct);

    /// <summary>Makes an API key; the token is returned once and only its hash is kept.</summary>
    public Task<(ApiKey Key, string Token)> CreateApiKeyAsync(Guid lenderId, string name, ApiRole role, string actor, CancellationToken ct) =>
        db.InTransactionAsync(() => AddApiKeyAsync(lenderId, name, role, actor, ct), ct);

    /// <summary>Revokes the lender's API key <paramref name="id"/>; false when the lender has no such key. Revoking twice is one revocation.</summary>
    public Task<bool> RevokeApiKeyAsync(Guid lenderId, string id, string actor, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id && k.LenderId == lenderId, ct);
            if (key is null) return false;
            if (key.RevokedAt is null)
            {
                key.RevokedAt = time.GetUtcNow();
                await audit.RecordAsync(key.LenderId, actor, AuditAction.ApiKeyRevoked, $"api-key:{id}", ct: ct);
                db.AfterCommit(() => apiKeys.Forget(id));
            }
            return true;
        }, ct);

    private async Task<(ApiKey Key, string Token)> AddApiKeyAsync(Guid lenderId, string name, ApiRole role, string actor, CancellationToken ct)
    {
        var (id, token, hash) = ApiKeyAuthentication.NewKey();
        var key = new ApiKey { Id = id, LenderId = lenderId, Name = name, Role = role, SecretHash = hash, CreatedAt = time.GetUtcNow() };
        db.ApiKeys.Add(key);
        await audit.RecordAsync(lenderId, actor, AuditAction.ApiKeyCreated, $"api-key:{id}", data: new { role }, ct: ct);
        return (key, token);
    }
}
