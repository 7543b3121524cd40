using System.Text.RegularExpressions;

namespace Lien.Server.Api;

/// <summary>Phone numbers as Lien keeps them: E.164, a plus and 8 to 15 digits, the first not zero.</summary>
internal static partial class Phones
{
    public static bool IsE164(string? number) => number is not null && E164().IsMatch(number);

    /// <summary>
    /// A number as a borrower types it or a gateway sends it (spaces, dashes, Kenya's leading 0 or 254 without the plus)
    /// in E.164; null when it is not a number.
    /// </summary>
    public static string? Normalize(string? typed)
    {
        if (typed is null || typed.Length > 24) return null;
        var digits = new string(typed.Where(c => c is not (' ' or '-' or '(' or ')')).ToArray());
        if (digits.StartsWith('0') && digits.Length == 10) digits = "+254" + digits[1..];
        else if (digits.StartsWith("254", StringComparison.Ordinal)) digits = "+" + digits;
        return IsE164(digits) ? digits : null;
    }

    [GeneratedRegex(@"^\+[1-9][0-9]{7,14}\z")]
    private static partial Regex E164();
}
