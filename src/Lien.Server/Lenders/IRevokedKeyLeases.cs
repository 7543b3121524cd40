namespace Lien.Server.Lenders;

/// <summary>
/// What a revocation asks of the leases: every device whose current lease the revoked key signed gets that lease again,
/// signed by the active key, in the revocation's unit of work. Implemented where leases are issued
/// (<c>Leases/LeaseIssuer</c>); Lenders only asks.
/// </summary>
internal interface IRevokedKeyLeases
{
    /// <summary>Re-issues the current leases of <paramref name="lender"/>'s devices that <paramref name="kid"/> signed; how many.</summary>
    Task<int> ResignAsync(Lender lender, string kid, string actor, CancellationToken ct);
}
