using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Lenders;

/// <summary>
/// The one home of lenders' lease-signing keys: made, rotated, revoked, the active one found, the public halves published
/// (as a plain list and as the signed key-set statement devices follow), and the private halves opened (kept in memory
/// once opened: a key never changes once made).
/// </summary>
internal sealed class SigningKeys(SecretBox box)
{
    public const string KeyPurpose = "lender-signing-key";
    private readonly ConcurrentDictionary<string, ECDsa> _opened = new();

    /// <summary>The private key of <paramref name="key"/>, opened once. ECDsa is not thread-safe: callers lock on it.</summary>
    public ECDsa Open(LenderKey key) => _opened.GetOrAdd(key.Kid, _ =>
    {
        var k = ECDsa.Create();
        k.ImportPkcs8PrivateKey(box.Open(key.SealedPrivateKey, KeyPurpose), out int _);
        return k;
    });

    /// <summary>A fresh P-256 key for the lender, its private half sealed.</summary>
    public LenderKey Create(Guid lenderId, DateTimeOffset now)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new LenderKey
        {
            Kid = "lk" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            LenderId = lenderId,
            PublicKey = ecdsa.ExportSubjectPublicKeyInfo(),
            SealedPrivateKey = box.Seal(ecdsa.ExportPkcs8PrivateKey(), KeyPurpose),
            CreatedAt = now,
        };
    }

    /// <summary>
    /// Adds a new signing key; the old ones are retired but stay published (and keep signing the key set) so leases they
    /// signed still verify, until they are revoked.
    /// </summary>
    public async Task<LenderKey> RotateAsync(LienDb db, Lender lender, DateTimeOffset now, CancellationToken ct)
    {
        var keys = await db.LenderKeys.Where(k => k.LenderId == lender.Id).ToListAsync(ct);
        foreach (var k in keys.Where(k => k.RetiredAt is null)) k.RetiredAt = now;
        var key = Create(lender.Id, now);
        db.LenderKeys.Add(key);
        Publish(lender, [.. keys, key], now);
        return key;
    }

    /// <summary>
    /// Revokes the lender's retired key <paramref name="kid"/>: it leaves the key set (which it no longer signs) and is
    /// named in its <c>revoked</c> list for ever. Revoking a revoked key changes nothing.
    /// </summary>
    public async Task<KeyRevocation> RevokeAsync(LienDb db, Lender lender, string kid, DateTimeOffset now, CancellationToken ct)
    {
        var keys = await db.LenderKeys.Where(k => k.LenderId == lender.Id).ToListAsync(ct);
        var key = keys.FirstOrDefault(k => k.Kid == kid);
        if (key is null) return KeyRevocation.Unknown;
        if (key.RevokedAt is not null) return KeyRevocation.AlreadyRevoked;
        if (key.RetiredAt is null) return KeyRevocation.Active;
        key.RevokedAt = now;
        Publish(lender, keys, now, revoking: key);
        return KeyRevocation.Revoked;
    }

    /// <summary>
    /// Gives each lender made before key-set statements existed its first one (run once at start; a lender made since has
    /// one from its creation). Without it such a lender's devices could not enroll or check in.
    /// </summary>
    public async Task PublishMissingAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
        using (await db.WriteGateAsync(CancellationToken.None))
        {
            var lenders = await db.Lenders.Where(l => l.KeySetJson == "").ToListAsync();
            foreach (var lender in lenders) Publish(lender, await db.LenderKeys.Where(k => k.LenderId == lender.Id).ToListAsync(), now);
            if (lenders.Count > 0) await db.SaveChangesAsync();
        }
    }

    // The active key per lender, as of a key-set version: every rotation and revocation raises the version, so a key
    // taken from here is never one that another node has since retired or revoked.
    private readonly ConcurrentDictionary<Guid, (long Version, LenderKey Key)> _active = new();

    /// <summary>The key that signs <paramref name="lender"/>'s answers now (read once per key-set version of the lender).</summary>
    public async Task<LenderKey> ActiveAsync(LienDb db, Lender lender, CancellationToken ct)
    {
        // A lender changed in this unit of work (a rotation, a revocation) may yet roll back: its version is not settled,
        // so neither taken from nor put in the cache.
        var settled = db.Entry(lender).State is EntityState.Unchanged or EntityState.Detached;
        if (settled && _active.TryGetValue(lender.Id, out var held) && held.Version == lender.KeySetVersion) return held.Key;
        var key = await ActiveKey.For(db)(db, lender.Id, ct);
        if (!settled) return key;
        if (_active.Count > 100_000) _active.Clear();
        _active[lender.Id] = (lender.KeySetVersion, key);
        return key;
    }

    private static readonly CompiledQuery<Func<LienDb, Guid, CancellationToken, Task<LenderKey>>> ActiveKey = new(() => EF.CompileAsyncQuery(
        (LienDb db, Guid lenderId, CancellationToken ct) => db.LenderKeys.AsNoTracking()
            .Where(k => k.LenderId == lenderId && k.RetiredAt == null).OrderByDescending(k => k.CreatedAt).First()));

    /// <summary>The key that signs the lender's new leases.</summary>
    public static Task<LenderKey> ActiveAsync(LienDb db, Guid lenderId, CancellationToken ct) => Active(db, lenderId).FirstAsync(ct);

    private static IQueryable<LenderKey> Active(LienDb db, Guid lenderId) =>
        db.LenderKeys.Where(k => k.LenderId == lenderId && k.RetiredAt == null).OrderByDescending(k => k.CreatedAt);

    /// <summary>
    /// Writes the public halves of <paramref name="keys"/> onto the lender, where check-ins and auditors read them: the
    /// keys not revoked (<see cref="Lender.TrustKeysJson"/>) and the next key-set statement, signed by each of them
    /// (<see cref="Lender.KeySetJson"/>). The statement that revokes a key carries that key's signature too, its last: a
    /// device that missed the rotation before it, and so trusts only the revoked key, can still follow.
    /// </summary>
    public void Publish(Lender lender, IReadOnlyList<LenderKey> keys, DateTimeOffset now, LenderKey? revoking = null)
    {
        var good = keys.Where(k => k.RevokedAt is null).OrderBy(k => k.CreatedAt).ToList();
        var trusted = TrustKeysOf(good);
        lender.TrustKeysJson = JsonSerializer.Serialize(trusted, Api.Json.Options);
        lender.KeySetVersion++;
        var claims = new KeySetClaims(KeySetClaims.Type, lender.Id, lender.KeySetVersion, now.ToUnixTimeSeconds(), trusted,
            [.. keys.Where(k => k.RevokedAt is not null).OrderBy(k => k.RevokedAt).Select(k => k.Kid)]);
        var signers = good.Append(revoking).OfType<LenderKey>().Select(k => (k.Kid, Key: Open(k))).ToList();
        // ECDsa is not thread-safe and leases are signed with the same opened keys: hold each while the set is signed.
        foreach (var (_, key) in signers) Monitor.Enter(key);
        try
        {
            lender.KeySetJson = JsonSerializer.Serialize(KeySetStatement.Sign(claims, signers), Api.Json.Options);
        }
        finally
        {
            foreach (var (_, key) in signers) Monitor.Exit(key);
        }
    }

    /// <summary>The key-set statement, read back from <see cref="Lender.KeySetJson"/>.</summary>
    public static KeySetStatement Statement(string json) =>
        JsonSerializer.Deserialize<KeySetStatement>(json, Api.Json.Options) ?? throw new InvalidOperationException("The lender has no key set.");

    /// <summary>The published keys, read back from <see cref="Lender.TrustKeysJson"/>.</summary>
    public static IReadOnlyList<TrustKey> Published(string json) => JsonSerializer.Deserialize<List<TrustKey>>(json, Api.Json.Options) ?? [];

    private static List<TrustKey> TrustKeysOf(IEnumerable<LenderKey> keys) => keys.Select(k =>
    {
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(k.PublicKey, out _);
        return TrustKey.From(k.Kid, ecdsa);
    }).ToList();
}

/// <summary>What a revocation found.</summary>
internal enum KeyRevocation
{
    Revoked,
    AlreadyRevoked,
    /// <summary>The key still signs new leases: rotate first.</summary>
    Active,
    Unknown,
}
