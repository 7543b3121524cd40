using System.Runtime.CompilerServices;

namespace Lien.Protocol.Codes;

/// <summary>What an OpenPAYGO token tells the device to do.</summary>
public enum TokenType
{
    /// <summary>Add the value (days) to the time left. Issued at even counts.</summary>
    AddTime,
    /// <summary>Set the time left to the value (days). Issued at odd counts.</summary>
    SetTime,
    /// <summary>Unlock for good: the loan is paid off. Odd count, value 998.</summary>
    DisablePayg,
    /// <summary>Move the device's count forward without changing its time. Odd count, value 999.</summary>
    CounterSync,
}

/// <summary>One device as OpenPAYGO Token sees it: its secret key, its starting code and its keypad.</summary>
/// <param name="Key">The device's 16-byte secret.</param>
/// <param name="StartingCode">The 9-digit code the device's chain of tokens starts from (0 … 999,999,999).</param>
/// <param name="RestrictedDigitSet">True when the keypad has the keys 1-4 only: tokens are then written in base 4.</param>
public sealed record TokenDevice(SipHashKey Key, long StartingCode, bool RestrictedDigitSet = false)
{
    public long StartingCode { get; } = StartingCode is >= 0 and <= OpenPaygoToken.MaxStartingCode
        ? StartingCode
        : throw new ArgumentOutOfRangeException(nameof(StartingCode), StartingCode, "A starting code has at most 9 digits.");
}

/// <summary>The arithmetic the encoder and the decoder share: the hash chain and where the value hides.</summary>
/// <remarks>
/// A token is a code of the device's hash chain whose low digits (3, or 6 when extended) are replaced by
/// starting code + value. The chain itself starts from the starting code with those same low digits, so every
/// value has its own chain and a token cannot be altered to another value without the key.
/// </remarks>
public static class OpenPaygoToken
{
    public const long MaxStartingCode = 999_999_999;
    public const int MaxValue = 995;
    public const int MaxExtendedValue = 999_999;
    public const int DisablePaygValue = 998;
    public const int CounterSyncValue = 999;

    /// <summary>Number of digits a token has in the given form.</summary>
    public static int Length(bool extended, bool restrictedDigitSet) => (extended, restrictedDigitSet) switch
    {
        (false, false) => 9,
        (true, false) => 12,
        (false, true) => 15,
        (true, true) => 20,
    };

    internal static long ValueOffset(bool extended) => extended ? 1_000_000 : 1_000;

    /// <summary>The code with its low digits replaced by <paramref name="lowDigits"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long WithLowDigits(long code, long lowDigits, long offset) => code - code % offset + lowDigits;

    /// <summary>The next code of a standard (9-digit) chain.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long NextStandard(SipHashKey key, long code)
    {
        // The reference hashes the 4 big-endian bytes of the code twice over (SipHash wants 8 bytes);
        // read as the little-endian word SipHash loads, that is the byte-swapped code in both halves.
        ulong swapped = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)code);
        var hash = SipHash24.Hash(key, swapped | swapped << 32);
        var folded = (uint)(hash >> 32) ^ (uint)hash;
        long next = folded >> 2;
        // 30 bits reach 1,073,741,823; the reference folds the top back under 10^9 with this constant.
        return next > 999_999_999 ? next - 73_741_825 : next;
    }

    /// <summary>The next code of an extended (12-digit) chain.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long NextExtended(SipHashKey key, long code)
    {
        // 8 big-endian bytes of the code; the top 40 bits of the hash, folded under 10^12.
        var hash = SipHash24.Hash(key, System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ulong)code));
        var next = (long)(hash >> 24);
        return next > 999_999_999_999 ? next - 99_511_627_777 : next;
    }

    /// <summary>The code <paramref name="steps"/> links down the chain from <paramref name="code"/>.</summary>
    // Optimised from the first call, and never inlined: inlined into the encoder, the JIT left SipHash's state
    // in memory (3x slower per hash); compiled on its own it keeps it in registers.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static long Advance(SipHashKey key, long code, int steps, bool extended)
    {
        // One loop per form, so the hash inlines into a tight loop without a branch in it.
        if (extended)
            for (var i = 0; i < steps; i++) code = NextExtended(key, code);
        else
            for (var i = 0; i < steps; i++) code = NextStandard(key, code);
        return code;
    }

    /// <summary>
    /// Walks the chain from <paramref name="from"/> (whose code is <paramref name="code"/>) to <paramref name="top"/>
    /// and returns the first count whose code has the high digits <paramref name="high"/>, leaving its code in
    /// <paramref name="code"/>; -1 when none does. Only the high digits are compared: the low ones are the
    /// token's own on every code of its chain.
    /// </summary>
    // On its own and optimised from the first call, for the same reason as Advance: this is the decoder's whole cost.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static int FindHighDigits(SipHashKey key, ref long code, int from, int top, long high, long offset, bool extended)
    {
        var current = code;
        var count = from;
        for (; count <= top; count++)
        {
            if (current >= high && current < high + offset) break;
            current = extended ? NextExtended(key, current) : NextStandard(key, current);
        }
        code = current;
        return count <= top ? count : -1;
    }

    /// <summary>The type a token matched at <paramref name="count"/> with <paramref name="value"/> has.</summary>
    internal static TokenType TypeAt(int count, int value) => (count % 2, value) switch
    {
        (0, _) => TokenType.AddTime,
        (_, DisablePaygValue) => TokenType.DisablePayg,
        (_, CounterSyncValue) => TokenType.CounterSync,
        _ => TokenType.SetTime,
    };

    /// <summary>The token as the borrower types it: decimal with leading zeros, or base 4 on keys 1-4.</summary>
    internal static string Format(long number, bool extended, bool restrictedDigitSet)
    {
        var length = Length(extended, restrictedDigitSet);
        return restrictedDigitSet
            ? string.Create(length, number, static (chars, n) =>
            {
                // Two bits a key, most significant first: 30 bits make 15 keys, 40 bits make 20.
                for (var i = chars.Length - 1; i >= 0; i--, n >>= 2) chars[i] = (char)('1' + (n & 3));
            })
            : string.Create(length, number, static (chars, n) =>
            {
                for (var i = chars.Length - 1; i >= 0; i--, n /= 10) chars[i] = (char)('0' + n % 10);
            });
    }

    /// <summary>
    /// Reads a typed token into its number and form; false when it cannot be a token for this keypad
    /// (wrong length or a key the keypad does not have).
    /// </summary>
    internal static bool TryParse(ReadOnlySpan<char> typed, bool restrictedDigitSet, out long number, out bool extended)
    {
        number = 0;
        extended = false;
        if (restrictedDigitSet)
        {
            if (typed.Length != 15 && typed.Length != 20) return false;
            foreach (var c in typed)
            {
                if (c is < '1' or > '4') return false;
                number = number << 2 | (long)(c - '1');
            }
            extended = typed.Length == 20;
            return true;
        }
        // Like the reference, a shorter entry is read as a token whose leading zeros were left off.
        if (typed.Length is 0 or > 12) return false;
        foreach (var c in typed)
        {
            if (c is < '0' or > '9') return false;
            number = number * 10 + (c - '0');
        }
        extended = typed.Length > 9;
        return true;
    }
}
