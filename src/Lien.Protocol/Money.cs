using System.Globalization;

namespace Lien.Protocol;

/// <summary>An amount in integer minor units of an ISO 4217 currency. No floating point near money.</summary>
public readonly record struct Money(long Minor, string Currency)
{
    /// <summary>Formats the amount the way a lock screen shows it, e.g. "KES 1,450" or "KES 1,450.50".</summary>
    public override string ToString()
    {
        var exponent = Currencies.Exponent(Currency) ?? 2;
        var scale = (long)Math.Pow(10, exponent);
        var whole = Math.Abs(Minor) / scale;
        var fraction = Math.Abs(Minor) % scale;
        var sign = Minor < 0 ? "-" : "";
        var text = whole.ToString("#,0", CultureInfo.InvariantCulture);
        return fraction == 0
            ? $"{Currency} {sign}{text}"
            : $"{Currency} {sign}{text}.{fraction.ToString(CultureInfo.InvariantCulture).PadLeft(exponent, '0')}";
    }
}

/// <summary>ISO 4217 currency codes in circulation with their minor-unit exponents.</summary>
public static class Currencies
{
    private static readonly Dictionary<string, int> Exponents = Build();

    /// <summary>The number of minor-unit digits of <paramref name="code"/>, or null for an unknown code.</summary>
    public static int? Exponent(string? code) =>
        code is not null && Exponents.TryGetValue(code, out var e) ? e : null;

    /// <summary>True for an active ISO 4217 code (upper case, three letters).</summary>
    public static bool IsKnown(string? code) => Exponent(code) is not null;

    private static Dictionary<string, int> Build()
    {
        const string two =
            "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD " +
            "CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD " +
            "HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT " +
            "MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR " +
            "SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU " +
            "UZS VES WST XCD YER ZAR ZMW ZWG";
        const string zero = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF";
        const string three = "BHD IQD JOD KWD LYD OMR TND";
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var c in two.Split(' ')) map[c] = 2;
        foreach (var c in zero.Split(' ')) map[c] = 0;
        foreach (var c in three.Split(' ')) map[c] = 3;
        return map;
    }
}
