using CsCheck;
using Lien.Server.Plans;

namespace Lien.Server.Tests.Plans;

/// <summary>The schedule's short text on the plan's row: every schedule a plan may have comes back exactly as it was.</summary>
public class ScheduleRunsTests
{
    [Fact]
    public void Encode_DailyYearWithRemainder_IsTwoRuns()
    {
        var schedule = Schedule.Generate(365 * 5000 + 12, 365, Frequency.Daily, new DateOnly(2026, 12, 2));
        Assert.Equal("1,2026-12-02,364,5000,1d;365,2027-12-01,1,5012,0d", ScheduleRuns.Encode(schedule));
    }

    [Fact]
    public void Encode_MonthlyFromTheThirtyFirst_IsOneRunOfMonths()
    {
        // 31 Jan, 28 Feb, 31 Mar, 30 Apr …: whole months from the first date, however long the months.
        var schedule = Schedule.Generate(12 * 100_00, 12, Frequency.Monthly, new DateOnly(2027, 1, 31));
        Assert.Equal("1,2027-01-31,12,10000,1m", ScheduleRuns.Encode(schedule));
        Assert.Equal(schedule, ScheduleRuns.Decode(ScheduleRuns.Encode(schedule)));
    }

    [Fact]
    public void Decode_OneRunPerInstallment_AsTheMigrationWritesThem()
    {
        Assert.Equal(
            [new Installment(1, new DateOnly(2026, 3, 10), 100_00), new Installment(2, new DateOnly(2026, 4, 2), 75_00)],
            ScheduleRuns.Decode("1,2026-03-10,1,10000,0d;2,2026-04-02,1,7500,0d"));
    }

    [Fact]
    public void RoundTrip_GeneratedAndCustomSchedules_ComeBackExactly()
    {
        var generated = from count in Gen.Int[1, Schedule.MaxInstallments]
                        from frequency in Gen.Enum<Frequency>()
                        from first in Gen.Int[0, 20_000].Select(d => Schedule.EarliestDueDate.AddDays(d))
                        from extra in Gen.Long[0, 1_000_000]
                        select Schedule.Generate(count * 1000L + extra, count, frequency, first);
        // Custom schedules: strictly later dates by random gaps, amounts from a few values so runs form and break.
        var custom = from gaps in Gen.Int[1, 40].Array[1, 300]
                     from amounts in Gen.OneOfConst(100L, 250L, 9_999_999_999L).Array[300]
                     from first in Gen.Int[0, 20_000].Select(d => Schedule.EarliestDueDate.AddDays(d))
                     select (IReadOnlyList<Installment>)gaps.Select((_, i) => new Installment(i + 1, first.AddDays(gaps.Take(i + 1).Sum()), amounts[i])).ToList();
        Gen.OneOf(generated, custom).Sample(s =>
        {
            var text = ScheduleRuns.Encode(s);
            return ScheduleRuns.Decode(text).SequenceEqual(s) && text.Split(';').Length <= s.Count;
        });
    }

    [Fact]
    public void Encode_DatesThatDoNotGoForward_OneInstallmentARun()
    {
        // Never a plan's schedule (Schedule.Problem refuses it), but the text must still read back as it was.
        Installment[] schedule = [new(1, new DateOnly(2026, 5, 1), 100), new(2, new DateOnly(2026, 4, 1), 100), new(3, new DateOnly(2026, 4, 1), 100)];
        Assert.Equal("1,2026-05-01,1,100,0d;2,2026-04-01,1,100,0d;3,2026-04-01,1,100,0d", ScheduleRuns.Encode(schedule));
        Assert.Equal(schedule, ScheduleRuns.Decode(ScheduleRuns.Encode(schedule)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("1,2026-03-10,1,10000")]
    [InlineData("1,2026-03-10,0,10000,1d")]
    [InlineData("1,2026-03-10,1,-5,1d")]
    [InlineData("1,10/03/2026,1,10000,1d")]
    [InlineData("1,2026-03-10,1,10000,1w")]
    [InlineData("1,2026-03-10,1001,10000,1d")]
    [InlineData("1,2026-03-10,2,10000,d")]
    [InlineData("1,2026-03-10,1,10000,1d;")]
    public void Decode_TextItDidNotWrite_Throws(string text) =>
        Assert.Throws<FormatException>(() => ScheduleRuns.Decode(text));
}
