using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Lenders;

namespace Lien.Server.Leases;

/// <summary>Signs leases (JWS, ES256) with a lender's key.</summary>
internal sealed class LeaseSigner(SigningKeys keys)
{
    public string Sign(LenderKey key, LeaseClaims claims)
    {
        var ecdsa = keys.Open(key);
        var payload = JsonSerializer.SerializeToUtf8Bytes(claims, LeaseClaims.Json);
        lock (ecdsa) return Jws.Sign(payload, ecdsa, key.Kid, LeaseClaims.MediaType);
    }
}
