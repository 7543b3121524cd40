namespace Lien.Server.Lenders;

/// <summary>
/// What a revocation asks of payoff certificates: each one the revoked key signed is signed again, unchanged, by the
/// active key, in the revocation's unit of work — so a released phone's certificate still verifies against the published
/// keys. Implemented where certificates are issued (<c>Certificates/PayoffCertificates</c>); Lenders only asks.
/// </summary>
internal interface IRevokedKeyCertificates
{
    /// <summary>Re-signs <paramref name="lender"/>'s certificates that <paramref name="kid"/> signed; how many.</summary>
    Task<int> ResignAsync(Lender lender, string kid, string actor, CancellationToken ct);
}
