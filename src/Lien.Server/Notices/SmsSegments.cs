namespace Lien.Server.Notices;

internal enum SmsEncoding { Gsm7, Ucs2 }

/// <summary>How a text travels by SMS: its encoding, its length in that encoding, and how many segments it takes.</summary>
internal sealed record SmsLength(SmsEncoding Encoding, int Units, int Segments);

/// <summary>
/// Counts SMS segments (3GPP TS 23.038 / 23.040). A text of only GSM 7-bit characters (the basic table; the extension
/// table's characters take two septets, an escape and the character) fits 160 septets in one segment, or 153 in each part
/// of a longer one (the rest is the concatenation header). Any other character makes the whole text UCS-2: 70 UTF-16
/// units in one segment, 67 in each part. A part never splits an escape pair or a surrogate pair.
/// </summary>
internal static class SmsSegments
{
    // The GSM 03.38 basic table, in code order (0x1B, the escape to the extension table, is left out).
    private const string Basic =
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

    private const string Extension = "\f^{}\\[~]|€";

    private static readonly HashSet<char> BasicSet = [.. Basic];
    private static readonly HashSet<char> ExtensionSet = [.. Extension];

    public static SmsLength Measure(string text)
    {
        if (text.All(c => BasicSet.Contains(c) || ExtensionSet.Contains(c)))
            return Split(text.Select(c => ExtensionSet.Contains(c) ? 2 : 1), SmsEncoding.Gsm7, 160, 153);
        return Split(Units(text), SmsEncoding.Ucs2, 70, 67);
    }

    // A UTF-16 surrogate pair is one character of two units, kept in one part.
    private static IEnumerable<int> Units(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                yield return 2;
            }
            else yield return 1;
        }
    }

    private static SmsLength Split(IEnumerable<int> sizes, SmsEncoding encoding, int single, int part)
    {
        var list = sizes.ToList();
        var total = list.Sum();
        if (total <= single) return new SmsLength(encoding, total, total == 0 ? 0 : 1);
        var segments = 1;
        var used = 0;
        foreach (var size in list)
        {
            if (used + size > part)
            {
                segments++;
                used = 0;
            }
            used += size;
        }
        return new SmsLength(encoding, total, segments);
    }
}
