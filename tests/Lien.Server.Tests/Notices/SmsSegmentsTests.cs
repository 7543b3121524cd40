using Lien.Server.Leases;
using Lien.Server.Notices;

namespace Lien.Server.Tests.Notices;

public sealed class SmsSegmentsTests
{
    public static TheoryData<string, string, string, int, int> Texts => new()
    {
        { "empty", "", "Gsm7", 0, 0 },
        { "160 plain", new string('a', 160), "Gsm7", 160, 1 },
        { "161 plain", new string('a', 161), "Gsm7", 161, 2 },
        { "306 plain: two parts of 153", new string('a', 306), "Gsm7", 306, 2 },
        { "307 plain", new string('a', 307), "Gsm7", 307, 3 },
        { "GSM-7 accents and Greek", "àäöñüÄÖÑÜ§¿¡ΔΦΓΛΩΠΨΣΘΞ£¥èéùìòÇØøÅåÆæßÉ@$_", "Gsm7", 41, 1 },
        { "80 euro signs: 160 septets", new string('€', 80), "Gsm7", 160, 1 },
        { "81 euro signs: no escape split over parts", new string('€', 81), "Gsm7", 162, 2 },
        { "153 septets then an escape pair", new string('a', 152) + "[" + new string('a', 10), "Gsm7", 164, 2 },
        { "extension table", "^{}\\[~]|€\f", "Gsm7", 20, 1 },
        { "70 non-GSM", new string('ê', 70), "Ucs2", 70, 1 },
        { "71 non-GSM", new string('ê', 71), "Ucs2", 71, 2 },
        { "134 non-GSM: two parts of 67", new string('ê', 134), "Ucs2", 134, 2 },
        { "135 non-GSM", new string('ê', 135), "Ucs2", 135, 3 },
        { "one curly quote makes it all UCS-2", new string('a', 69) + "\u2019", "Ucs2", 70, 1 },
        { "35 emoji: 70 units", string.Concat(Enumerable.Repeat("\U0001F600", 35)), "Ucs2", 70, 1 },
        { "36 emoji: no pair split over parts", string.Concat(Enumerable.Repeat("\U0001F600", 36)), "Ucs2", 72, 2 },
        { "a backtick is not GSM-7", "`", "Ucs2", 1, 1 },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void Measure_Text_EncodingUnitsAndSegments(string what, string text, string encoding, int units, int segments)
    {
        var got = SmsSegments.Measure(text);
        Assert.True((got.Encoding.ToString(), got.Units, got.Segments) == (encoding, units, segments), $"{what}: {got}");
    }

    [Fact]
    public void DefaultReminders_WithTheLongestValues_FitOneGsm7Segment()
    {
        foreach (var language in SmsTemplates.Languages)
            foreach (var kind in SmsTemplates.OneSegment)
            {
                var text = SmsTemplates.Render(SmsTemplates.Default(language, kind), SmsTemplates.Sample());
                Assert.DoesNotContain("{", text, StringComparison.Ordinal);
                Assert.True(SmsSegments.Measure(text) is { Encoding: SmsEncoding.Gsm7, Segments: 1 }, $"{language}/{kind}: {text.Length} characters: {text}");
            }
    }

    [Fact]
    public void DefaultTemplates_EveryLanguageAndKind_GsmOnlyAndKnownPlaceholders()
    {
        foreach (var language in SmsTemplates.Languages)
            foreach (var kind in NoticeKinds.All)
            {
                var template = SmsTemplates.Default(language, kind);
                Assert.Null(SmsTemplates.Problem(template));
                Assert.Equal(SmsEncoding.Gsm7, SmsSegments.Measure(SmsTemplates.Render(template, SmsTemplates.Sample())).Encoding);
            }
    }

    [Fact]
    public void Values_AmountInTheCurrencyAndDatesInTheLendersZone()
    {
        var v = NoticeValues.Of("L", null, " ", "LN-1", 1_450_50, "KES", new DateTimeOffset(2026, 3, 4, 21, 30, 0, TimeSpan.Zero),
            TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi"));
        Assert.Equal(("KES 1,450.50", "2026-03-05", "2026-03-05 00:30", "-", "-"), (v.Amount, v.Date, v.Deadline, v.ShortCode, v.SupportPhone));
        Assert.Equal("UGX 145,050", NoticeValues.Of("L", null, null, "R", 145_050, "UGX", null, TimeZoneInfo.Utc).Amount);
    }
}
