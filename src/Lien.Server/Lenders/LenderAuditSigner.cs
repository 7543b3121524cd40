using Lien.Protocol;
using Lien.Server.Audit;
using Lien.Server.Storage;

namespace Lien.Server.Lenders;

/// <summary>Signs audit checkpoints with the lender's active signing key (the key its leases are signed with, another <c>typ</c>).</summary>
internal sealed class LenderAuditSigner(SigningKeys keys) : IAuditSigner
{
    public async Task<string> SignAsync(LienDb db, Guid lenderId, byte[] payload, string typ, CancellationToken ct)
    {
        var key = await SigningKeys.ActiveAsync(db, lenderId, ct);
        var ecdsa = keys.Open(key);
        lock (ecdsa) return Jws.Sign(payload, ecdsa, key.Kid, typ);
    }
}
