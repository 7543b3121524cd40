namespace Lien.Server.Api;

/// <summary>One page of a list; <see cref="Next"/> is the cursor for the following page, null on the last.</summary>
internal sealed record Page<T>(IReadOnlyList<T> Items, string? Next);

internal static class Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static int Limit(int? limit) => Math.Clamp(limit ?? DefaultLimit, 1, MaxLimit);

    public static bool TryCursor(string? cursor, out Guid? after)
    {
        after = null;
        if (string.IsNullOrEmpty(cursor)) return true;
        if (!Guid.TryParseExact(cursor, "N", out var g)) return false;
        after = g;
        return true;
    }

    public static string Cursor(Guid id) => id.ToString("N");
}
