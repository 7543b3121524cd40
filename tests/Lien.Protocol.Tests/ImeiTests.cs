using Lien.Protocol;

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
}
