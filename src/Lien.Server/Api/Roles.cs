namespace Lien.Server.Api;

/// <summary>The authorization policies an endpoint requires; each admits its role and every role above it.</summary>
internal static class Roles
{
    public const string Viewer = "viewer";
    public const string Operator = "operator";
    public const string Admin = "admin";
}
