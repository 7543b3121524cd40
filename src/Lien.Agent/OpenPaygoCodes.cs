using System.Globalization;
using System.Text.Json;
using Lien.Protocol;
using Lien.Protocol.Codes;

namespace Lien.Agent;

/// <summary>
/// Offline unlock codes on the device (OpenPAYGO Token): decodes what the borrower types with the secret the enrollment
/// answer sealed to this device's key. ADD_TIME extends from the later of now and the current deadline, SET_TIME sets
/// it, DISABLE_PAYG releases, COUNTER_SYNC only moves the count. Wrong codes are rate-limited (docs/PROTOCOL.md §7):
/// five free, then a wait of 1 minute doubling to 1 hour, measured on the monotonic clock so that changing the wall
/// clock does not shorten it (a reboot starts the current wait again); a code already used is refused but not counted.
/// A COUNTER_SYNC typed again is accepted (as the OpenPAYGO reference accepts it) but does not reset the limit: it is
/// free to repeat, so it must not clear a wait. Every wrong code since enrollment is also counted for check-in
/// (<c>wrongCodes</c>), so the lender sees a phone someone is guessing codes on.
/// </summary>
public sealed class OpenPaygoCodes : IOfflineCodes
{
    internal const int FreeWrongCodes = 5;
    internal static readonly TimeSpan FirstWait = TimeSpan.FromMinutes(1);
    internal static readonly TimeSpan MaxWait = TimeSpan.FromHours(1);

    /// <summary>
    /// What the extension keeps in <see cref="AgentState.CodeState"/> (in the device's keystore on a real phone).
    /// <see cref="Wrong"/> counts toward the rate limit (an accepted code resets it); <see cref="WrongSinceEnrollment"/> never resets.
    /// </summary>
    private sealed record State(string Key, long StartingCode, bool Restricted, int TimeDivider, int Count, ulong Used, int Wrong,
        TimeSpan? WaitFrom = null, TimeSpan? WaitFor = null, int WrongSinceEnrollment = 0);

    public string? Enroll(AgentState state, OfflineCodes codes)
    {
        using var key = DeviceKeys.Open(state.Identity);
        var secret = codes.Secret.Open(key, state.Enrollment!.DeviceId);
        // Every count up to the server's is taken as used: after a factory reset the device cannot know which were.
        var initial = TokenDecoderState.Initial(codes.Count);
        return Write(new State(Convert.ToHexString(secret), codes.StartingCode, codes.RestrictedDigitSet, codes.TimeDivider, initial.Count, initial.UsedCounts, 0));
    }

    public CodeResult Redeem(AgentState state, string code, DeviceTime at, DateTimeOffset trustedNow)
    {
        if (state.CodeState is null) return new CodeResult(null, null, "Unlock codes are not set up on this device yet. Tap Refresh when you are online.");
        var s = JsonSerializer.Deserialize<State>(state.CodeState)!;
        if (s is { WaitFrom: { } from, WaitFor: { } length })
        {
            // The monotonic clock restarts at boot: a reboot during a wait starts that wait again.
            if (at.Elapsed < from) s = s with { WaitFrom = from = at.Elapsed };
            var left = from + length - at.Elapsed;
            if (left > TimeSpan.Zero)
                return new CodeResult(null, Write(s), string.Create(CultureInfo.InvariantCulture, $"Too many wrong codes. Try again in {Math.Ceiling(left.TotalMinutes)} minutes."));
        }
        var typed = new string(code.Where(char.IsAsciiDigit).ToArray());
        var device = new TokenDevice(SipHashKey.FromHex(s.Key), s.StartingCode, s.Restricted);
        var (result, decoder) = TokenDecoder.Decode(device, new TokenDecoderState(s.Count, s.Used), typed);
        switch (result.Status)
        {
            case TokenStatus.AlreadyUsed:
                return new CodeResult(null, null, "This code has already been used.");
            case TokenStatus.Invalid:
                var wrong = s.Wrong + 1;
                var waitFor = wrong <= FreeWrongCodes ? (TimeSpan?)null
                    : TimeSpan.FromTicks(Math.Min(MaxWait.Ticks, FirstWait.Ticks << Math.Min(wrong - FreeWrongCodes - 1, 20)));
                var total = Math.Min(s.WrongSinceEnrollment + 1, CheckInRequest.MaxWrongCodes); // what a server accepts
                return new CodeResult(null, Write(s with { Wrong = wrong, WaitFrom = waitFor is null ? null : at.Elapsed, WaitFor = waitFor, WrongSinceEnrollment = total }),
                    "Wrong code. Check it and try again.");
        }
        var repeat = result.Type == TokenType.CounterSync && result.Count <= s.Count && new TokenDecoderState(s.Count, s.Used).IsUsed(result.Count!.Value);
        var next = Write(repeat
            ? s with { Count = decoder.Count, Used = decoder.UsedCounts }
            : s with { Count = decoder.Count, Used = decoder.UsedCounts, Wrong = 0, WaitFrom = null, WaitFor = null });
        var days = TimeSpan.FromDays(result.Value!.Value / (double)s.TimeDivider);
        var current = state.UnlockedUntil is { } u && u > trustedNow ? u : trustedNow;
        return result.Type switch
        {
            TokenType.AddTime => new CodeResult(current + days, next, null),
            TokenType.SetTime => new CodeResult(trustedNow + days, next, null),
            TokenType.DisablePayg => new CodeResult(null, next, null, Released: true),
            _ => new CodeResult(null, next, null), // COUNTER_SYNC
        };
    }

    public int WrongCodes(AgentState state) =>
        state.CodeState is null ? 0 : JsonSerializer.Deserialize<State>(state.CodeState)!.WrongSinceEnrollment;

    private static string Write(State s) => JsonSerializer.Serialize(s);
}
