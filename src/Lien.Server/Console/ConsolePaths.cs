namespace Lien.Server.Console;

internal static class ConsolePaths
{
    /// <summary>A return address only inside the console (never another site: an open redirect).</summary>
    public static string Local(string? url) =>
        url is { Length: > 0 and <= 500 } && url.StartsWith("/console", StringComparison.Ordinal) && !url.Contains("//", StringComparison.Ordinal)
            && !url.Contains('\\', StringComparison.Ordinal) && !url.Any(char.IsControl)
            ? url : "/console";
}
