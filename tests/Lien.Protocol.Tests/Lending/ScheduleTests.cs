using CsCheck;
using Lien.Protocol.Lending;

namespace Lien.Protocol.Tests.Lending;

public class ScheduleTests
{
    [Fact]
    public void Generate_UnevenTotal_RemainderGoesToLastInstallment()
    {
        var s = Schedule.Generate(1000, 3, Frequency.Weekly, new DateOnly(2026, 1, 5));
        Assert.Equal([333L, 333L, 334L], s.Select(i => i.Amount));
        Assert.Equal([new DateOnly(2026, 1, 5), new DateOnly(2026, 1, 12), new DateOnly(2026, 1, 19)], s.Select(i => i.DueDate));
        Assert.Equal([1, 2, 3], s.Select(i => i.Number));
    }

    [Fact]
    public void Generate_MonthlyFromThe31st_ClampsToMonthEnd()
    {
        var s = Schedule.Generate(400, 4, Frequency.Monthly, new DateOnly(2026, 1, 31));
        Assert.Equal([new DateOnly(2026, 1, 31), new DateOnly(2026, 2, 28), new DateOnly(2026, 3, 31), new DateOnly(2026, 4, 30)], s.Select(i => i.DueDate));
    }

    [Fact]
    public void Generate_Daily_ConsecutiveDays()
    {
        var s = Schedule.Generate(70, 7, Frequency.Daily, new DateOnly(2026, 12, 29));
        Assert.Equal(new DateOnly(2027, 1, 4), s[^1].DueDate);
        Assert.All(s, i => Assert.Equal(10, i.Amount));
    }

    [Theory]
    [InlineData(new long[] { 100, 100 }, 200, null)]
    [InlineData(new long[] { 100, 100 }, 250, "add up to 200")]
    [InlineData(new long[] { 100, 0 }, 100, "positive amount")]
    [InlineData(new long[] { }, 0, "at least one")]
    public void Problem_Schedules_AreCheckedAgainstFinancedAmount(long[] amounts, long financed, string? expected)
    {
        var s = amounts.Select((a, i) => new Installment(i + 1, new DateOnly(2026, 1, 1).AddDays(i), a)).ToList();
        var problem = Schedule.Problem(s, financed);
        if (expected is null) Assert.Null(problem);
        else Assert.Contains(expected, problem);
    }

    [Fact]
    public void Problem_DatesOutOfOrder_Refused()
    {
        var s = new[] { new Installment(1, new DateOnly(2026, 2, 1), 10), new Installment(2, new DateOnly(2026, 2, 1), 10) };
        Assert.Contains("after installment 1", Schedule.Problem(s, 20));
    }

    [Theory]
    [InlineData(2100, 12, 31, 1001)] // more than the most installments a plan has
    [InlineData(9999, 6, 1, 12)]     // the audit's case: AddMonths would overflow
    [InlineData(1, 1, 1, 3)]
    [InlineData(1999, 12, 31, 3)]
    [InlineData(2101, 1, 1, 3)]
    public void Generate_FirstDueOutsideTheRangeOrTooMany_RefusedBeforeAnyArithmetic(int year, int month, int day, int count)
    {
        var first = new DateOnly(year, month, day);
        Assert.Throws<ArgumentOutOfRangeException>(() => Schedule.Generate(100_000, count, Frequency.Monthly, first));
    }

    [Fact]
    public void Generate_AnyFirstDueInRange_NeverOverflowsAndProblemSaysWhenItRunsPastTheRange()
    {
        var span = Schedule.LatestDueDate.DayNumber - Schedule.EarliestDueDate.DayNumber;
        Gen.Select(Gen.Int[0, span], Gen.Int[1, Schedule.MaxInstallments], Gen.Enum<Frequency>()).Sample((offset, count, frequency) =>
        {
            var first = Schedule.EarliestDueDate.AddDays(offset);
            var s = Schedule.Generate(1_000_000, count, frequency, first);
            var past = s[^1].DueDate > Schedule.LatestDueDate;
            var problem = Schedule.Problem(s, 1_000_000);
            return s.Count == count && (past ? problem?.Contains("2100-12-31", StringComparison.Ordinal) == true : problem is null);
        });
    }

    [Theory]
    [InlineData(1999, 12, 31)]
    [InlineData(2101, 1, 1)]
    [InlineData(9999, 12, 31)]
    public void Problem_DueDateOutsideTheRange_Refused(int year, int month, int day)
    {
        var s = new[] { new Installment(1, new DateOnly(year, month, day), 10) };
        Assert.Contains($"falls due on {year:0000}-{month:00}-{day:00}", Schedule.Problem(s, 10));
    }
}
