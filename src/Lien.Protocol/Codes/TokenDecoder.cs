namespace Lien.Protocol.Codes;

/// <summary>What the device made of a typed token.</summary>
public enum TokenStatus
{
    /// <summary>Accepted: apply <see cref="TokenDecodeResult.Type"/> and <see cref="TokenDecodeResult.Value"/>.</summary>
    Ok,
    /// <summary>A genuine token of this device that it must refuse (used, or too old).</summary>
    AlreadyUsed,
    /// <summary>Not a token of this device within its window: a typo or a guess. Counts toward the rate limit.</summary>
    Invalid,
}

/// <summary>The outcome of one typed token; type, value and count are set when the status is Ok.</summary>
public readonly record struct TokenDecodeResult(TokenStatus Status, TokenType? Type = null, int? Value = null, int? Count = null)
{
    public static TokenDecodeResult AlreadyUsed { get; } = new(TokenStatus.AlreadyUsed);
    public static TokenDecodeResult Invalid { get; } = new(TokenStatus.Invalid);
}

/// <summary>The decoder's persisted memory: the highest count accepted and which of the 64 counts up to it are used.</summary>
/// <param name="Count">The device count: the highest count it has accepted. It never goes down.</param>
/// <param name="UsedCounts">Bit i set: count <c>Count - i</c> is used. Counts more than 63 below are all treated as used.</param>
public sealed record TokenDecoderState(int Count, ulong UsedCounts)
{
    public int Count { get; } = Count is >= 0 and <= int.MaxValue - TokenDecoder.MaxCounterSyncJump
        ? Count
        : throw new ArgumentOutOfRangeException(nameof(Count), Count, "A device count is not negative and leaves room above it for the search window.");

    /// <summary>
    /// A device provisioned at <paramref name="count"/>. Every count up to it is marked used: the device cannot
    /// know which older tokens were delivered, and refusing one is safer than crediting it twice.
    /// </summary>
    public static TokenDecoderState Initial(int count = 0) => new(count, ulong.MaxValue);

    /// <summary>True when the token at <paramref name="count"/> (at or below the device count) was used.</summary>
    public bool IsUsed(int count)
    {
        var age = Count - count;
        return age >= 64 || (UsedCounts >> age & 1) == 1;
    }
}

/// <summary>
/// The device side of OpenPAYGO Token. <see cref="Decode(TokenDevice, TokenDecoderState, ReadOnlySpan{char})"/> is
/// the pure rule; an instance carries the state between tokens for callers that like it that way.
/// </summary>
public sealed class TokenDecoder(TokenDevice device, TokenDecoderState state)
{
    /// <summary>How far above the device count a token may be: tokens lost in between are skipped.</summary>
    public const int MaxJump = 64;
    /// <summary>How far above the device count a COUNTER_SYNC may be.</summary>
    public const int MaxCounterSyncJump = 100;
    /// <summary>How many counts below the device count an unused ADD_TIME is still accepted (delivered out of order).</summary>
    public const int OlderAddTimeWindow = 16;

    public TokenDevice Device { get; } = device ?? throw new ArgumentNullException(nameof(device));
    public TokenDecoderState State { get; private set; } = state ?? throw new ArgumentNullException(nameof(state));

    /// <summary>Decodes <paramref name="token"/> and keeps the new state.</summary>
    public TokenDecodeResult Decode(ReadOnlySpan<char> token)
    {
        var (result, next) = Decode(Device, State, token);
        State = next;
        return result;
    }

    /// <summary>What a device in <paramref name="state"/> makes of <paramref name="token"/>, and its state afterwards.</summary>
    public static (TokenDecodeResult Result, TokenDecoderState State) Decode(TokenDevice device, TokenDecoderState state, ReadOnlySpan<char> token)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(state);
        if (!OpenPaygoToken.TryParse(token, device.RestrictedDigitSet, out var number, out var extended))
            return (TokenDecodeResult.Invalid, state);

        var offset = OpenPaygoToken.ValueOffset(extended);
        var lowDigits = number % offset;
        var high = number - lowDigits;
        var startLow = device.StartingCode % offset;
        var value = (int)((lowDigits - startLow + offset) % offset);

        // The value picks the chain; walk it from count 0 to the top of the window.
        var top = state.Count + (value == OpenPaygoToken.CounterSyncValue ? MaxCounterSyncJump : MaxJump);
        var code = OpenPaygoToken.WithLowDigits(device.StartingCode, lowDigits, offset);
        var count = OpenPaygoToken.FindHighDigits(device.Key, ref code, 0, top, high, offset, extended);
        if (count < 0) return (TokenDecodeResult.Invalid, state);
        // The first count the digits match decides. A used token's digits may, about once in a million, also match a
        // later count; accepting that would credit the same code twice, so the walk stops here. (The reference decoder
        // keeps looking; the conformance vectors pass either way.)
        var type = OpenPaygoToken.TypeAt(count, value);
        return IsAcceptable(state, count, type)
            ? (new(TokenStatus.Ok, type, value, count), Accept(state, count, type))
            : (TokenDecodeResult.AlreadyUsed, state);
    }

    private static bool IsAcceptable(TokenDecoderState state, int count, TokenType type)
    {
        // Count 0 is the starting code itself: typing it must never do anything.
        if (count == 0) return false;
        // As the OpenPAYGO reference decoders do, a COUNTER_SYNC is accepted above count − 64 even when its count is
        // used: it credits nothing and only settles the count, so entering it again is harmless.
        if (type == TokenType.CounterSync) return count > state.Count - MaxJump;
        if (count > state.Count) return true;
        if (state.IsUsed(count)) return false;
        return type == TokenType.AddTime && count > state.Count - OlderAddTimeWindow;
    }

    private static TokenDecoderState Accept(TokenDecoderState state, int count, TokenType type)
    {
        var top = Math.Max(state.Count, count);
        var shift = top - state.Count;
        var used = shift >= 64 ? 0UL : state.UsedCounts << shift;
        var age = top - count;
        // ADD_TIME uses only its own count; the others settle the device at their count, so everything
        // up to it (ADD_TIME tokens still in flight included) is spent.
        used |= type == TokenType.AddTime ? 1UL << age : ulong.MaxValue << age;
        return new(top, used);
    }
}
