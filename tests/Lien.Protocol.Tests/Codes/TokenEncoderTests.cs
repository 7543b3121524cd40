using Lien.Protocol.Codes;
using Lien.Tests.Codes;

namespace Lien.Protocol.Tests.Codes;

public class TokenEncoderTests
{
    private static readonly TokenDevice Device = new(SipHashKey.FromHex("bc41ec9530f6dac86b1a29ab82edc5fb"), 516959010);

    [Fact]
    public void Encode_EveryPublishedVector_ReproducesTokenAndNewCount()
    {
        var report = TokenConformance.CheckVectors(File.ReadAllText(ConformanceFiles.Vectors));

        Assert.Empty(report.Failures);
        Assert.Equal(80, report.Passed);
    }

    // Two lines of test_tokens.jsonl written out, so a fault in the conformance reader cannot hide one in the encoder.
    [Fact]
    public void Encode_AddTimeOneDayAtCountOne_GivesPublishedToken() =>
        Assert.Equal(new IssuedToken("588224011", 2), TokenEncoder.Encode(Device, 1, TokenType.AddTime, 1));

    [Fact]
    public void Encode_RestrictedExtendedAddTime_GivesPublishedTwentyKeyToken() =>
        Assert.Equal(new IssuedToken("14323213131442331314", 2),
            TokenEncoder.Encode(Device with { RestrictedDigitSet = true }, 1, TokenType.AddTime, 1, extended: true));

    [Theory]
    [InlineData(TokenType.AddTime, 10, 12)]
    [InlineData(TokenType.AddTime, 11, 12)]
    [InlineData(TokenType.SetTime, 10, 11)]
    [InlineData(TokenType.SetTime, 11, 13)]
    [InlineData(TokenType.DisablePayg, 0, 1)]
    [InlineData(TokenType.CounterSync, 1, 3)]
    public void Encode_Type_StepsToNextCountOfItsParity(TokenType type, int count, int expectedNewCount) =>
        Assert.Equal(expectedNewCount, TokenEncoder.Encode(Device, count, type).NewCount);

    [Theory]
    [InlineData(TokenType.AddTime, 996, false)]
    [InlineData(TokenType.AddTime, -1, false)]
    [InlineData(TokenType.AddTime, 1_000_000, true)]
    [InlineData(TokenType.SetTime, 998, true)]
    [InlineData(TokenType.DisablePayg, 5, false)]
    public void Encode_ValueOutOfRange_Throws(TokenType type, int value, bool extended) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenEncoder.Encode(Device, 1, type, value, extended));

    [Fact]
    public void Encode_DisablePaygWithItsFixedValue_SameAsWithout() =>
        Assert.Equal(TokenEncoder.Encode(Device, 4, TokenType.DisablePayg), TokenEncoder.Encode(Device, 4, TokenType.DisablePayg, 998));

    [Fact]
    public void TokenDevice_TenDigitStartingCode_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenDevice(Device.Key, 1_000_000_000));
}
