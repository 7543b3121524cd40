namespace Lien.Server.Tests;

/// <summary>The scheduled review: an overdue plan locks at the end of its grace, and a locked phone asks for what is due. Through real HTTP, on SQLite and on PostgreSQL (see the derived classes).</summary>
public abstract class ReviewTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    [Fact]
    public async Task Review_OverduePastGrace_LocksOnTimeNotBefore()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today, count: 2);
        var lockAt = Policy.EndOfDay(Server.Today.AddDays(3), TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi"));
        var lease = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease");
        var allowanceEnd = DateTimeOffset.FromUnixTimeSeconds(Server.Time.GetUtcNow().ToUnixTimeSeconds()).AddHours(72);
        Assert.Equal(lockAt < allowanceEnd ? lockAt : allowanceEnd, lease.GetProperty("unlockedUntil").GetDateTimeOffset());

        Server.Time.SetUtcNow(lockAt.AddSeconds(-1));
        await Server.ReviewAsync();
        Assert.Equal("Unlocked", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).Str("mode"));
        var overdue = await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}");
        Assert.Equal("Overdue", overdue.Str("status"));
        Assert.Equal(3, overdue.GetProperty("daysPastDue").GetInt32());

        Server.Time.SetUtcNow(lockAt);
        Assert.True(await Server.ReviewAsync() >= 1);
        var locked = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease");
        Assert.Equal("Locked", locked.Str("mode"));
        Assert.Equal(100_00, locked.GetProperty("screen").Long("amountDueMinor"));
        Assert.Equal(plan.Str("reference"), locked.GetProperty("screen").Str("payReference"));
        Assert.Equal("scheduled review", locked.Str("cause"));
        Assert.Equal(0, await Server.ReviewAsync()); // nothing left due
    }

    [Fact]
    public async Task Review_StaysLocked_LockScreenFollowsTheSchedule()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi");
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today, count: 2);
        var secondDue = DateOnly.Parse(plan.GetProperty("installments")[1].Str("dueDate"), System.Globalization.CultureInfo.InvariantCulture);
        Server.Time.SetUtcNow(Policy.EndOfDay(Server.Today.AddDays(3), zone));
        await Server.ReviewAsync();
        Assert.Equal(100_00, (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).GetProperty("screen").Long("amountDueMinor"));

        // Nobody pays; the second installment passes its grace too. The locked phone must now ask for both.
        Server.Time.SetUtcNow(Policy.EndOfDay(secondDue.AddDays(3), zone));
        await Server.ReviewAsync();
        var lease = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease");
        Assert.Equal("Locked", lease.Str("mode"));
        Assert.Equal(200_00, lease.GetProperty("screen").Long("amountDueMinor"));
        Assert.Equal("scheduled review", lease.Str("cause"));
    }
}

public sealed class SqliteReviewTests(SqliteServer server) : ReviewTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresReviewTests(PostgresServer server) : ReviewTests(server), IClassFixture<PostgresServer>;
