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
}
