namespace Lien.Protocol.Tests;

public class ImeiTests
{
    [Theory]
    [InlineData("490154203237518", true)]   // the textbook example
    [InlineData("356938035643809", true)]
    [InlineData("490154203237517", false)]  // bad check digit
    [InlineData("49015420323751", false)]   // 14 digits
    [InlineData("4901542032375180", false)] // 16 digits
    [InlineData("49015420323751A", false)]  // a letter
    [InlineData("49015420323751 ", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsValid_Examples_MatchLuhn(string? imei, bool valid) => Assert.Equal(valid, Imei.IsValid(imei));

    [Fact]
    public void Problem_BadCheckDigit_NamesTheRightDigit()
    {
        Assert.Contains("should be 8", Imei.Problem("490154203237510"));
    }

    [Fact]
    public void CheckDigit_EveryBody_MakesAValidImei()
    {
        for (var i = 0; i < 1000; i++)
        {
            var body = (35_000_000_000_000L + i * 7919L).ToString(System.Globalization.CultureInfo.InvariantCulture)[..14];
            Assert.True(Imei.IsValid(body + Imei.CheckDigit(body)));
            Assert.False(Imei.IsValid(body + (Imei.CheckDigit(body) + 1) % 10));
        }
    }

    [Theory]
    [InlineData("49015420323751", "490154203237518")] // the textbook example
    [InlineData("35693803564380", "356938035643809")]
    [InlineData("00000000000000", "000000000000000")]
    public void WithCheckDigit_FourteenDigits_AppendsTheLuhnDigit(string body, string imei)
    {
        Assert.Equal(imei, Imei.WithCheckDigit(body));
    }

    [Theory]
    [InlineData("4901542032375")]   // 13 digits
    [InlineData("490154203237518")] // already 15
    [InlineData("4901542032375A")]
    [InlineData("")]
    public void WithCheckDigit_NotFourteenDigits_Throws(string body) =>
        Assert.Throws<ArgumentException>(() => Imei.WithCheckDigit(body));
}
