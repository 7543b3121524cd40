namespace Lien.Protocol.Tests;

public class MoneyTests
{
    [Theory]
    [InlineData(145000, "KES", "KES 1,450")]
    [InlineData(145050, "KES", "KES 1,450.50")]
    [InlineData(145005, "KES", "KES 1,450.05")]
    [InlineData(15000, "UGX", "UGX 15,000")]
    [InlineData(1500, "KWD", "KWD 1.500")]
    [InlineData(-250, "USD", "USD -2.50")]
    public void ToString_LockScreenFormat(long minor, string currency, string expected) =>
        Assert.Equal(expected, new Money(minor, currency).ToString());

    [Theory]
    [InlineData("KES", true)]
    [InlineData("INR", true)]
    [InlineData("kes", false)]
    [InlineData("XYZ", false)]
    [InlineData(null, false)]
    public void IsKnown_Iso4217(string? code, bool known) => Assert.Equal(known, Currencies.IsKnown(code));
}
