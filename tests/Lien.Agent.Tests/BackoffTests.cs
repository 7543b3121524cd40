namespace Lien.Agent.Tests;

/// <summary>The retry schedules: doubling from the initial delay to the cap, jittered by at most ±20 %.</summary>
public sealed class BackoffTests
{
    [Theory]
    [InlineData(0.5, 1.0)]
    [InlineData(0.0, 0.8)]
    [InlineData(1.0, 1.2)]
    public void CheckIn_Failures_30sDoublingTo30MinWithJitter(double random, double factor)
    {
        var b = Backoff.CheckIn(new FixedRandom(random));
        var seconds = Enumerable.Range(0, 9).Select(_ => b.Next().TotalSeconds).ToArray();
        double[] nominal = [30, 60, 120, 240, 480, 960, 1800, 1800, 1800];
        Assert.Equal(nominal.Select(s => s * factor), seconds, (x, y) => Math.Abs(x - y) < 1e-6);
    }

    [Fact]
    public void Stream_Failures_1sDoublingTo60s_ResetStartsAgain()
    {
        var b = Backoff.Stream(new FixedRandom(0.5));
        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60], Enumerable.Range(0, 8).Select(_ => b.Next().TotalSeconds));
        b.Reset();
        Assert.Equal(1, b.Next().TotalSeconds);
    }

    [Fact]
    public void Next_RealRandom_StaysWithin20Percent()
    {
        var b = Backoff.CheckIn(new Random(7));
        for (var i = 0; i < 1000; i++)
        {
            var nominal = Math.Min(30 * Math.Pow(2, Math.Min(i, 30)), 1800);
            var s = b.Next().TotalSeconds;
            Assert.InRange(s, nominal * 0.8, nominal * 1.2);
        }
    }
}
