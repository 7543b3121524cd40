using Lien.Server.Storage;

namespace Lien.Server.Audit;

/// <summary>
/// Signs a lender's audit checkpoint with the lender's own signing key, so anyone holding the lender's published keys
/// can check it. Implemented where the keys live (<c>Lenders/SigningKeys</c>); Audit only asks.
/// </summary>
internal interface IAuditSigner
{
    /// <summary>A compact JWS (ES256) of <paramref name="payload"/> with header <c>typ</c> <paramref name="typ"/>.</summary>
    Task<string> SignAsync(LienDb db, Guid lenderId, byte[] payload, string typ, CancellationToken ct);
}
