using System.Text.RegularExpressions;

namespace Lien.Server.Api;

/// <summary>Phone numbers as Lien keeps them: E.164, a plus and 8 to 15 digits, the first not zero.</summary>
internal static partial class Phones
{
    public static bool IsE164(string? number) => number is not null && E164().IsMatch(number);

    [GeneratedRegex(@"^\+[1-9][0-9]{7,14}\z")]
    private static partial Regex E164();
}
