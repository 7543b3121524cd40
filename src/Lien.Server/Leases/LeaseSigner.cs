using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Lenders;
using Lien.Server.Storage;

namespace Lien.Server.Leases;

/// <summary>Signs leases with a lender's key. Opened private keys are kept in memory: they never change once made.</summary>
internal sealed class LeaseSigner(SecretBox box)
{
    public const string KeyPurpose = "lender-signing-key";
    private readonly ConcurrentDictionary<string, ECDsa> _keys = new();

    public string Sign(LenderKey key, LeaseClaims claims)
    {
        var ecdsa = _keys.GetOrAdd(key.Kid, _ =>
        {
            var k = ECDsa.Create();
            k.ImportPkcs8PrivateKey(box.Open(key.SealedPrivateKey, KeyPurpose), out int _);
            return k;
        });
        var payload = JsonSerializer.SerializeToUtf8Bytes(claims, LeaseClaims.Json);
        lock (ecdsa) return Jws.Sign(payload, ecdsa, key.Kid, LeaseClaims.MediaType);
    }

    public static LenderKey NewKey(Guid lenderId, SecretBox box, DateTimeOffset now)
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

    public static IReadOnlyList<TrustKey> TrustKeysOf(IEnumerable<LenderKey> keys) => keys.OrderBy(k => k.CreatedAt).Select(k =>
    {
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(k.PublicKey, out _);
        return TrustKey.From(k.Kid, ecdsa);
    }).ToList();
}
