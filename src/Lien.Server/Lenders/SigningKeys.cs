using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Lenders;

/// <summary>
/// The one home of lenders' lease-signing keys: made, rotated, the active one found, the public halves published, and
/// the private halves opened (kept in memory once opened: a key never changes once made).
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
    public static LenderKey Create(Guid lenderId, SecretBox box, DateTimeOffset now)
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

    /// <summary>Adds a new signing key; the old ones are retired but stay published so leases they signed still verify.</summary>
    public static async Task<LenderKey> RotateAsync(LienDb db, SecretBox box, Lender lender, DateTimeOffset now, CancellationToken ct)
    {
        var keys = await db.LenderKeys.Where(k => k.LenderId == lender.Id).ToListAsync(ct);
        foreach (var k in keys.Where(k => k.RetiredAt is null)) k.RetiredAt = now;
        var key = Create(lender.Id, box, now);
        db.LenderKeys.Add(key);
        Publish(lender, [.. keys, key]);
        return key;
    }

    /// <summary>The key that signs the lender's new leases.</summary>
    public static Task<LenderKey> ActiveAsync(LienDb db, Guid lenderId, CancellationToken ct) =>
        db.LenderKeys.Where(k => k.LenderId == lenderId && k.RetiredAt == null).OrderByDescending(k => k.CreatedAt).FirstAsync(ct);

    /// <summary>Writes the public halves of <paramref name="keys"/> onto the lender, where check-ins read them.</summary>
    public static void Publish(Lender lender, IEnumerable<LenderKey> keys) =>
        lender.TrustKeysJson = JsonSerializer.Serialize(TrustKeysOf(keys), Api.Json.Options);

    /// <summary>The published keys, read back from <see cref="Lender.TrustKeysJson"/>.</summary>
    public static IReadOnlyList<TrustKey> Published(string json) => JsonSerializer.Deserialize<List<TrustKey>>(json, Api.Json.Options) ?? [];

    private static List<TrustKey> TrustKeysOf(IEnumerable<LenderKey> keys) => keys.OrderBy(k => k.CreatedAt).Select(k =>
    {
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(k.PublicKey, out _);
        return TrustKey.From(k.Kid, ecdsa);
    }).ToList();
}
