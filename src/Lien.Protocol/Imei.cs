namespace Lien.Protocol;

/// <summary>IMEI rules: 15 digits whose last digit is the Luhn check digit of the first 14.</summary>
public static class Imei
{
    /// <summary>Returns why <paramref name="imei"/> is not a valid IMEI, or null when it is.</summary>
    public static string? Problem(string? imei)
    {
        if (string.IsNullOrEmpty(imei)) return "IMEI is required.";
        if (imei.Length != 15) return $"IMEI must be exactly 15 digits; '{imei}' has {imei.Length} characters.";
        foreach (var c in imei)
            if (c is < '0' or > '9') return $"IMEI must contain digits only; '{imei}' contains '{c}'.";
        var expected = CheckDigit(imei.AsSpan(0, 14));
        return imei[14] - '0' == expected
            ? null
            : $"IMEI '{imei}' fails its Luhn check: the last digit should be {expected}.";
    }

    /// <summary>True when <paramref name="imei"/> is 15 digits with a valid Luhn check digit.</summary>
    public static bool IsValid(string? imei) => Problem(imei) is null;

    /// <summary>The IMEI made of <paramref name="fourteenDigits"/> followed by their Luhn check digit.</summary>
    /// <exception cref="ArgumentException"><paramref name="fourteenDigits"/> is not 14 ASCII digits.</exception>
    public static string WithCheckDigit(string fourteenDigits)
    {
        ArgumentNullException.ThrowIfNull(fourteenDigits);
        if (fourteenDigits.Length != 14 || !fourteenDigits.All(char.IsAsciiDigit))
            throw new ArgumentException($"The body of an IMEI is 14 digits; '{fourteenDigits}' is not.", nameof(fourteenDigits));
        return fourteenDigits + (char)('0' + CheckDigit(fourteenDigits));
    }

    /// <summary>The Luhn check digit for the 14 leading digits of an IMEI.</summary>
    public static int CheckDigit(ReadOnlySpan<char> body)
    {
        var sum = 0;
        for (var i = 0; i < body.Length; i++)
        {
            var d = body[i] - '0';
            // Counting from the right of the full number, every second digit (odd positions here) is doubled.
            if (i % 2 == 1)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
        }
        return (10 - sum % 10) % 10;
    }
}
