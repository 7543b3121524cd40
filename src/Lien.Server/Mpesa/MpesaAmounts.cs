using System.Globalization;

namespace Lien.Server.Mpesa;

/// <summary>M-Pesa's amounts, its numbers and times, read exactly; pure.</summary>
internal static class MpesaAmounts
{
    /// <summary>
    /// <paramref name="text"/> (a decimal as M-Pesa writes it: <c>"1450"</c>, <c>"1450.00"</c>, <c>"0.5"</c>) in minor units
    /// of a currency of <paramref name="exponent"/> digits, exactly: digits, at most one point, no sign, no separator, no
    /// exponent, no fraction finer than the currency's (except trailing zeros), more than zero and at most 10^12 minor units.
    /// Anything else (<c>"1,000.5x"</c>, <c>"1e3"</c>, <c>"-5"</c>, <c>" 5"</c>) is null.
    /// </summary>
    public static long? ToMinor(string? text, int exponent)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 24) return null;
        var point = text.IndexOf('.');
        var whole = point < 0 ? text : text[..point];
        var fraction = point < 0 ? "" : text[(point + 1)..];
        if (whole.Length is 0 or > 13 || !whole.All(char.IsAsciiDigit) || !fraction.All(char.IsAsciiDigit)) return null;
        if (point >= 0 && fraction.Length == 0) return null;
        if (fraction.Length > exponent)
        {
            if (fraction[exponent..].Any(c => c != '0')) return null;
            fraction = fraction[..exponent];
        }
        var minor = long.Parse(whole, CultureInfo.InvariantCulture);
        for (var i = 0; i < exponent; i++) minor = minor * 10 + (i < fraction.Length ? fraction[i] - '0' : 0);
        return minor is > 0 and <= 1_000_000_000_000 ? minor : null;
    }

    /// <summary>Minor units as M-Pesa's whole shillings for an STK push, or null when the amount has cents.</summary>
    public static long? ToWhole(long minor, int exponent)
    {
        var scale = (long)Math.Pow(10, exponent);
        return minor % scale == 0 ? minor / scale : null;
    }

    /// <summary>M-Pesa's <c>yyyyMMddHHmmss</c>, in Nairobi time (Daraja's clock), as an instant; null when it is not one.</summary>
    public static DateTimeOffset? Instant(string? text)
    {
        if (text is null || !DateTime.TryParseExact(text, "yyyyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local)) return null;
        return new DateTimeOffset(local, Nairobi.GetUtcOffset(local)).ToUniversalTime();
    }

    /// <summary>An instant as Daraja's <c>Timestamp</c>: <c>yyyyMMddHHmmss</c> in Nairobi time.</summary>
    public static string Timestamp(DateTimeOffset at) =>
        TimeZoneInfo.ConvertTime(at, Nairobi).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);

    /// <summary>The STK push password: base64 of shortcode + passkey + timestamp.</summary>
    public static string Password(string shortCode, string passkey, string timestamp) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(shortCode + passkey + timestamp));

    private static readonly TimeZoneInfo Nairobi = TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi");
}
