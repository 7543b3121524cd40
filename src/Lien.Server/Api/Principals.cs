using System.Security.Claims;

namespace Lien.Server.Api;

/// <summary>Who is calling: the lender a request acts for and the actor its audit events name.</summary>
internal static class Principals
{
    public const string LenderClaim = "lien:lender";
    public const string KeyClaim = "lien:key";

    public static Guid LenderId(this ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(LenderClaim)!);
    public static string Actor(this ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.Name) ?? "unknown";
}
