using Lien.Server.Api;
using Lien.Server.Mpesa;
using Lien.Server.Payments;

namespace Lien.Server.Tests.Mpesa;

/// <summary>The pure rules under M-Pesa: amounts read exactly, account references, near misses, phone numbers.</summary>
public sealed class MpesaRulesTests
{
    [Theory]
    [InlineData("1450", 145000)]
    [InlineData("1450.00", 145000)]
    [InlineData("1450.5", 145050)]
    [InlineData("1450.50", 145050)]
    [InlineData("0.01", 1)]
    [InlineData("1450.500", 145050)]
    [InlineData("0001", 100)]
    [InlineData("9999999999.99", 999999999999)]
    public void ToMinor_DecimalStrings_ExactMinorUnits(string text, long expected) => Assert.Equal(expected, MpesaAmounts.ToMinor(text, 2));

    [Theory]
    [InlineData("1,000.5x")]
    [InlineData("1,000")]
    [InlineData("1000.505")]
    [InlineData("-5")]
    [InlineData("+5")]
    [InlineData(" 5")]
    [InlineData("5 ")]
    [InlineData("1e3")]
    [InlineData("5.")]
    [InlineData(".5")]
    [InlineData("0")]
    [InlineData("0.00")]
    [InlineData("")]
    [InlineData("NaN")]
    [InlineData("١٢٣")]
    [InlineData("12345678901234")]
    public void ToMinor_AnythingElse_Null(string text) => Assert.Null(MpesaAmounts.ToMinor(text, 2));

    [Fact]
    public void ToMinor_ZeroExponentCurrency_NoFraction() => Assert.Equal((500L, (long?)null, 500L), (MpesaAmounts.ToMinor("500", 0)!.Value, MpesaAmounts.ToMinor("500.5", 0), MpesaAmounts.ToMinor("500.0", 0)!.Value));

    [Fact]
    public void Password_IsBase64OfShortCodePasskeyTimestamp_InNairobiTime()
    {
        var at = new DateTimeOffset(2026, 3, 1, 9, 30, 5, TimeSpan.Zero);
        Assert.Equal("20260301123005", MpesaAmounts.Timestamp(at));
        Assert.Equal(Convert.ToBase64String("174379passkey20260301123005"u8.ToArray()), MpesaAmounts.Password("174379", "passkey", "20260301123005"));
        Assert.Equal(at, MpesaAmounts.Instant("20260301123005"));
    }

    [Theory]
    [InlineData("LN-7F3K2A", "LN7F3K2A")]
    [InlineData(" ln 7f3k-2a ", "LN7F3K2A")]
    [InlineData("ln_7f.3k2a", "LN7F3K2A")]
    public void Normalize_IgnoresCaseSpacesAndDashes(string typed, string expected) => Assert.Equal(expected, AccountReferences.Normalize(typed));

    [Theory]
    [InlineData("LN7F3K2A", "LN7F3K2B", true)]  // substitution
    [InlineData("LN7F3K2A", "LN7F3K2", true)]   // deletion
    [InlineData("LN7F3K2A", "LN7F3K2AX", true)] // insertion
    [InlineData("LN7F3K2A", "LN7F3KA2", true)]  // transposition
    [InlineData("LN7F3K2A", "LNF73K2A", true)]  // transposition in the middle
    [InlineData("LN7F3K2A", "LN7F3K2A", false)] // equal: not a near miss
    [InlineData("LN7F3K2A", "LN7F3KXY", false)] // two substitutions
    [InlineData("LN7F3K2A", "LNF7K32A", false)] // two transpositions
    [InlineData("LN7F3K2A", "LN7F3", false)]
    [InlineData("LN7F3K2A", "XLN7F3K2", false)] // insertion and deletion
    public void OneEditApart_EachKindOfEdit(string a, string b, bool expected)
    {
        Assert.Equal(expected, AccountReferences.OneEditApart(a, b));
        Assert.Equal(expected, AccountReferences.OneEditApart(b, a));
    }

    [Theory]
    [InlineData("0712 345 678", "+254712345678")]
    [InlineData("0112345678", "+254112345678")]
    [InlineData("254712345678", "+254712345678")]
    [InlineData("+254 712-345-678", "+254712345678")]
    [InlineData("712345678", "+254712345678")]
    [InlineData("+447911123456", "+447911123456")]
    public void Normalize_KenyanNumbersAsTyped_E164(string typed, string expected) => Assert.Equal(expected, Phones.Normalize(typed));

    [Theory]
    [InlineData("LN-7F3K2A")]
    [InlineData("0812345678")]
    [InlineData("12345")]
    [InlineData("+")]
    [InlineData("07123456789")]
    [InlineData("++254712345678")]
    public void Normalize_NotAPhoneNumber_Null(string typed) => Assert.Null(Phones.Normalize(typed));

    [Fact]
    public void Masked_ShowsOnlyTheEnds() => Assert.Equal("+2547••••678", Phones.Masked("+254712345678"));
}
