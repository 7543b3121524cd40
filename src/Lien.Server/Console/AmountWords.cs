using System.Globalization;
using Lien.Protocol;

namespace Lien.Server.Console;

/// <summary>Amounts as staff type them (major units, e.g. 1,450.50) and as a cheque writes them out, for the payment confirmation.</summary>
internal static class AmountWords
{
    /// <summary>Minor units of <paramref name="currency"/> from a major-unit amount ("1450", "1,450.5"); false when it is not one.</summary>
    public static bool TryParse(string? text, string currency, out long minor)
    {
        minor = 0;
        var exponent = Currencies.Exponent(currency) ?? 2;
        if (text is null || text.Length is 0 or > 20) return false;
        var clean = text.Trim().Replace(",", "", StringComparison.Ordinal);
        if (!decimal.TryParse(clean, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var major) || major <= 0) return false;
        var scaled = major * (decimal)Math.Pow(10, exponent);
        if (scaled != decimal.Truncate(scaled) || scaled > 1_000_000_000_000m) return false;
        minor = (long)scaled;
        return true;
    }

    /// <summary>E.g. "one thousand four hundred fifty KES and 50/100".</summary>
    public static string Of(long minor, string currency)
    {
        var exponent = Currencies.Exponent(currency) ?? 2;
        var unit = (long)Math.Pow(10, exponent);
        var words = $"{Words(minor / unit)} {currency}";
        return exponent > 0 && minor % unit != 0 ? $"{words} and {(minor % unit).ToString(CultureInfo.InvariantCulture)}/{unit.ToString(CultureInfo.InvariantCulture)}" : words;
    }

    private static readonly string[] Small = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"];
    private static readonly string[] Tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

    public static string Words(long n)
    {
        if (n < 20) return Small[n];
        if (n < 100) return Tens[n / 10] + (n % 10 > 0 ? "-" + Small[n % 10] : "");
        if (n < 1000) return Small[n / 100] + " hundred" + (n % 100 > 0 ? " " + Words(n % 100) : "");
        foreach (var (size, name) in new[] { (1_000_000_000L, "billion"), (1_000_000L, "million"), (1_000L, "thousand") })
            if (n >= size) return Words(n / size) + " " + name + (n % size > 0 ? " " + Words(n % size) : "");
        return n.ToString(CultureInfo.InvariantCulture);
    }
}
