using Lien.Protocol.Codes;
using Lien.Tests.Codes;

namespace Lien.Protocol.Tests.Codes;

public class TokenDecoderTests
{
    private static readonly TokenDevice Device = new(SipHashKey.FromHex("a29ab82edc5fbbc41ec9530f6dac86b1"), 123456789);

    private static string Token(int countBefore, TokenType type, int value = 0, TokenDevice? device = null, bool extended = false) =>
        TokenEncoder.Encode(device ?? Device, countBefore, type, value, extended).Token;

    [Fact]
    public void Decode_PublishedScenario_EveryStepAsExpected()
    {
        var report = TokenConformance.CheckScenario(File.ReadAllText(ConformanceFiles.Scenario));

        Assert.Empty(report.Failures);
        Assert.Equal(46, report.Passed);
    }

    [Fact]
    public void Decode_FreshTokenAboveCount_OkWithTypeValueAndCount()
    {
        var (result, state) = TokenDecoder.Decode(Device, TokenDecoderState.Initial(), Token(0, TokenType.AddTime, 7));

        Assert.Equal(new TokenDecodeResult(TokenStatus.Ok, TokenType.AddTime, 7, 2), result);
        Assert.Equal(2, state.Count);
    }

    [Fact]
    public void Decode_SameTokenTwice_SecondIsAlreadyUsed()
    {
        var decoder = new TokenDecoder(Device, TokenDecoderState.Initial());
        var token = Token(0, TokenType.AddTime, 7);

        Assert.Equal(TokenStatus.Ok, decoder.Decode(token).Status);
        Assert.Equal(TokenStatus.AlreadyUsed, decoder.Decode(token).Status);
    }

    [Fact]
    public void Decode_UsedTokenWhoseDigitsAlsoMatchALaterCount_StillAlreadyUsed()
    {
        // A device found by search: its count-2 ADD_TIME token, 953714145, has the same nine digits as the value-3 token
        // at count 23 (a one-in-a-million coincidence of the format). Typed again, it must not credit three days twice.
        var device = new TokenDevice(SipHashKey.FromHex("F644876959B7E2D8CBAEFFD20B2B272C"), 318075142);
        var token = TokenEncoder.Encode(device, 0, TokenType.AddTime, 3).Token;
        Assert.Equal("953714145", token);
        var decoder = new TokenDecoder(device, TokenDecoderState.Initial());

        Assert.Equal(2, decoder.Decode(token).Count);
        Assert.Equal(TokenStatus.AlreadyUsed, decoder.Decode(token).Status);
    }

    [Fact]
    public void Decode_StartingCode_AlreadyUsedEvenOnFreshDevice() =>
        Assert.Equal(TokenStatus.AlreadyUsed, TokenDecoder.Decode(Device, TokenDecoderState.Initial(), "123456789").Result.Status);

    [Theory]
    [InlineData("")]
    [InlineData("12345678a")]
    [InlineData("1234567890123")]
    public void Decode_NotDigitsOrTooLong_Invalid(string typed) =>
        Assert.Equal(TokenStatus.Invalid, TokenDecoder.Decode(Device, TokenDecoderState.Initial(), typed).Result.Status);

    [Fact]
    public void Decode_TokenBeyondWindow_Invalid()
    {
        // Count 66 is beyond 0 + 64.
        var (result, _) = TokenDecoder.Decode(Device, TokenDecoderState.Initial(), Token(64, TokenType.AddTime, 1));

        Assert.Equal(TokenStatus.Invalid, result.Status);
    }

    [Fact]
    public void Decode_CounterSyncBeyondNormalWindow_OkUpToHundredAbove()
    {
        var (result, state) = TokenDecoder.Decode(Device, TokenDecoderState.Initial(), Token(97, TokenType.CounterSync));

        Assert.Equal(new TokenDecodeResult(TokenStatus.Ok, TokenType.CounterSync, 999, 99), result);
        Assert.Equal(99, state.Count);
    }

    [Fact]
    public void Decode_OlderUnusedAddTimeWithinSixteen_AcceptedOnceCountStays()
    {
        var state = TokenDecoderState.Initial();
        var older = Token(10, TokenType.AddTime, 3); // count 12
        state = TokenDecoder.Decode(Device, state, Token(20, TokenType.AddTime, 1)).State; // count 22

        var (first, afterFirst) = TokenDecoder.Decode(Device, state, older);
        var (second, _) = TokenDecoder.Decode(Device, afterFirst, older);

        Assert.Equal(new TokenDecodeResult(TokenStatus.Ok, TokenType.AddTime, 3, 12), first);
        Assert.Equal(22, afterFirst.Count);
        Assert.Equal(TokenStatus.AlreadyUsed, second.Status);
    }

    // (older token, newer token accepted first): the older one must then be refused.
    [Theory]
    [InlineData(TokenType.AddTime, 4, TokenType.AddTime, 20)] // unused, but count 6 is 16 below count 22
    [InlineData(TokenType.AddTime, 10, TokenType.SetTime, 12)] // count 12 spent by the SET_TIME at 13
    [InlineData(TokenType.AddTime, 10, TokenType.DisablePayg, 12)]
    [InlineData(TokenType.SetTime, 10, TokenType.AddTime, 12)] // a SET_TIME below the count, never seen
    public void Decode_OlderTokenAfterNewer_AlreadyUsed(TokenType olderType, int olderBefore, TokenType newerType, int newerBefore)
    {
        var older = Token(olderBefore, olderType, 3);
        var state = TokenDecoder.Decode(Device, TokenDecoderState.Initial(), Token(newerBefore, newerType)).State;

        Assert.Equal(TokenStatus.AlreadyUsed, TokenDecoder.Decode(Device, state, older).Result.Status);
    }

    [Fact]
    public void Decode_CounterSyncBelowCount_OkAndCountDoesNotGoDown()
    {
        var sync = Token(8, TokenType.CounterSync); // count 9
        var state = TokenDecoder.Decode(Device, TokenDecoderState.Initial(), Token(20, TokenType.AddTime, 1)).State; // count 22

        var (result, after) = TokenDecoder.Decode(Device, state, sync);

        Assert.Equal(new TokenDecodeResult(TokenStatus.Ok, TokenType.CounterSync, 999, 9), result);
        Assert.Equal(22, after.Count);
    }

    // The OpenPAYGO reference (IsCountValid in the C decoder, _count_is_valid in the Python one) accepts a COUNTER_SYNC
    // above count − 64 whether or not its count was used: it credits nothing, so entering it again is harmless.
    [Theory]
    [InlineData(8, 0)] // count 9, typed again with the device at 9
    [InlineData(8, 20)] // count 9, typed again with the device at 22
    [InlineData(8, 70)] // count 9, typed again with the device at 72: 9 > 72 − 64
    public void Decode_CounterSyncRepeatedWithinWindow_OkAgainCountStays(int syncBefore, int laterBefore)
    {
        var sync = Token(syncBefore, TokenType.CounterSync);
        var state = TokenDecoder.Decode(Device, TokenDecoderState.Initial(), sync).State;
        if (laterBefore > syncBefore) state = TokenDecoder.Decode(Device, state, Token(laterBefore, TokenType.AddTime, 1)).State;
        var count = state.Count;

        var (again, after) = TokenDecoder.Decode(Device, state, sync);
        var (thrice, _) = TokenDecoder.Decode(Device, after, sync);

        Assert.Equal(new TokenDecodeResult(TokenStatus.Ok, TokenType.CounterSync, 999, syncBefore + 1), again);
        Assert.Equal(again, thrice);
        Assert.Equal(count, after.Count);
    }

    [Fact]
    public void Decode_CounterSyncRepeatedAtCountMinus64_AlreadyUsed()
    {
        var sync = Token(8, TokenType.CounterSync); // count 9
        var state = TokenDecoder.Decode(Device, TokenDecoderState.Initial(), sync).State;
        state = TokenDecoder.Decode(Device, state, Token(71, TokenType.SetTime, 1)).State; // count 73: 9 is not above 73 − 64

        Assert.Equal(73, state.Count);
        Assert.Equal(TokenStatus.AlreadyUsed, TokenDecoder.Decode(Device, state, sync).Result.Status);
    }

    [Fact]
    public void Decode_CounterSyncRepeated_StillSpendsOlderAddTime()
    {
        // An ADD_TIME at count 12 sent before a COUNTER_SYNC at 13 and arriving after it stays refused, repeat or not.
        var older = Token(10, TokenType.AddTime, 3); // count 12
        var sync = Token(12, TokenType.CounterSync); // count 13
        var state = TokenDecoder.Decode(Device, TokenDecoderState.Initial(), sync).State;
        state = TokenDecoder.Decode(Device, state, sync).State;

        Assert.Equal(TokenStatus.AlreadyUsed, TokenDecoder.Decode(Device, state, older).Result.Status);
    }

    [Fact]
    public void Decode_ProvisionedAtCount_OlderTokensRefused()
    {
        var older = Token(10, TokenType.AddTime, 3); // count 12

        Assert.Equal(TokenStatus.AlreadyUsed, TokenDecoder.Decode(Device, TokenDecoderState.Initial(20), older).Result.Status);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Decode_EveryForm_RoundTripsEveryType(bool restricted, bool extended)
    {
        var device = Device with { RestrictedDigitSet = restricted };
        var decoder = new TokenDecoder(device, TokenDecoderState.Initial());
        var issued = new[] { (TokenType.AddTime, 5), (TokenType.SetTime, 995), (TokenType.CounterSync, 999), (TokenType.DisablePayg, 998) };
        var count = 0;
        foreach (var (type, value) in issued)
        {
            var token = TokenEncoder.Encode(device, count, type, value, extended);
            Assert.Equal(OpenPaygoToken.Length(extended, restricted), token.Token.Length);

            Assert.Equal(new TokenDecodeResult(TokenStatus.Ok, type, value, token.NewCount), decoder.Decode(token.Token));
            count = token.NewCount;
        }
    }

    [Fact]
    public void Decode_ExtendedValueAboveThousand_Ok()
    {
        var token = Token(0, TokenType.AddTime, 123_456, extended: true);

        Assert.Equal(new TokenDecodeResult(TokenStatus.Ok, TokenType.AddTime, 123_456, 2), TokenDecoder.Decode(Device, TokenDecoderState.Initial(), token).Result);
    }

    [Fact]
    public void Decode_RestrictedKeypadGivenDigitFive_Invalid() =>
        Assert.Equal(TokenStatus.Invalid,
            TokenDecoder.Decode(Device with { RestrictedDigitSet = true }, TokenDecoderState.Initial(), "123412341234125").Result.Status);

    [Fact]
    public void TokenDecoderState_NegativeCount_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenDecoderState(-1, 0));
}
