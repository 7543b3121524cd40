using System.Text.RegularExpressions;

namespace Lien.Server.Api;

/// <summary>Phone numbers as Lien stores them: E.164 (<c>+254712345678</c>).</summary>
internal static partial class Phones
{
    public static bool IsE164(string? number) => number is not null && E164().IsMatch(number);

    /// <summary>
    /// <paramref name="number"/> as E.164, or null when it is not a phone number. Spaces, dashes and brackets are
    /// ignored; a Kenyan number may be written as a borrower writes it — <c>0712 345 678</c>, <c>254712345678</c>,
    /// <c>+254 712 345 678</c> or <c>712345678</c> — and a number of another country needs its <c>+</c>.
    /// </summary>
    public static string? Normalize(string? number)
    {
        if (string.IsNullOrWhiteSpace(number) || number.Length > 32) return null;
        Span<char> digits = stackalloc char[32];
        var n = 0;
        var plus = false;
        foreach (var c in number)
        {
            if (c is ' ' or '-' or '(' or ')' or '.') continue;
            if (c == '+' && n == 0 && !plus) { plus = true; continue; }
            if (!char.IsAsciiDigit(c)) return null;
            digits[n++] = c;
        }
        var d = new string(digits[..n]);
        var e164 = plus ? "+" + d
            : d.Length == 10 && d[0] == '0' && d[1] is '7' or '1' ? "+254" + d[1..]
            : d.Length == 9 && d[0] is '7' or '1' ? "+254" + d
            : d.Length == 12 && d.StartsWith("254", StringComparison.Ordinal) ? "+" + d
            : null;
        return IsE164(e164) ? e164 : null;
    }

    /// <summary>The number as M-Pesa writes it, without the <c>+</c> (<c>254712345678</c>).</summary>
    public static string Msisdn(string e164) => e164.TrimStart('+');

    /// <summary>
    /// The number as every page, message, export and audit entry shows it: <c>+2547••••678</c> — its first five and last
    /// three characters, four dots between whatever its length (so the mask does not tell the length either).
    /// </summary>
    public static string Masked(string? number) =>
        number is null ? "" : number.Length <= 8 ? new string('•', number.Length) : number[..5] + "••••" + number[^3..];

    [GeneratedRegex(@"^\+[1-9][0-9]{7,14}\z")]
    private static partial Regex E164();
}
