namespace Lien.Protocol.Codes;

/// <summary>A token the server issued, and the count it must store for the device afterwards.</summary>
public readonly record struct IssuedToken(string Token, int NewCount);

/// <summary>The server side of OpenPAYGO Token: turns (device, count, type, value) into the code to send.</summary>
public static class TokenEncoder
{
    /// <summary>
    /// Issues the next token after <paramref name="count"/> (the count stored after the previous token).
    /// <paramref name="value"/> is the days for ADD_TIME and SET_TIME; DISABLE_PAYG and COUNTER_SYNC carry
    /// their fixed values (998, 999) and take 0 or that value here.
    /// </summary>
    public static IssuedToken Encode(TokenDevice device, int count, TokenType type, int value = 0, bool extended = false)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var carried = CarriedValue(type, value, extended);

        // ADD_TIME lives on even counts, the rest on odd ones: step to the next count of the right parity.
        var wantsOdd = type != TokenType.AddTime;
        var newCount = count + (count % 2 == 1 == wantsOdd ? 2 : 1);

        var offset = OpenPaygoToken.ValueOffset(extended);
        var lowDigits = (device.StartingCode % offset + carried) % offset;
        var chainStart = OpenPaygoToken.WithLowDigits(device.StartingCode, lowDigits, offset);
        var code = OpenPaygoToken.Advance(device.Key, chainStart, newCount, extended);
        var number = OpenPaygoToken.WithLowDigits(code, lowDigits, offset);
        return new(OpenPaygoToken.Format(number, extended, device.RestrictedDigitSet), newCount);
    }

    private static int CarriedValue(TokenType type, int value, bool extended)
    {
        switch (type)
        {
            case TokenType.AddTime or TokenType.SetTime:
                var max = extended ? OpenPaygoToken.MaxExtendedValue : OpenPaygoToken.MaxValue;
                if (value < 0 || value > max)
                    throw new ArgumentOutOfRangeException(nameof(value), value, $"{type} takes 0 … {max} days.");
                // An extended SET_TIME of 998 or 999 days would decode as DISABLE_PAYG or COUNTER_SYNC.
                if (type == TokenType.SetTime && value is OpenPaygoToken.DisablePaygValue or OpenPaygoToken.CounterSyncValue)
                    throw new ArgumentOutOfRangeException(nameof(value), value, "SET_TIME cannot carry 998 or 999: they mean DISABLE_PAYG and COUNTER_SYNC.");
                return value;
            case TokenType.DisablePayg or TokenType.CounterSync:
                var fixedValue = type == TokenType.DisablePayg ? OpenPaygoToken.DisablePaygValue : OpenPaygoToken.CounterSyncValue;
                if (value != 0 && value != fixedValue)
                    throw new ArgumentOutOfRangeException(nameof(value), value, $"{type} carries no value of its own.");
                return fixedValue;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown token type.");
        }
    }
}
