namespace Lien.Server.Tests;

/// <summary>The scheduled review: an overdue plan locks at the end of its grace, and a locked phone asks for what is due. Through real HTTP, on SQLite and on PostgreSQL (see the derived classes).</summary>
public abstract class ReviewTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    [Fact]
    public async Task Review_OverduePastGrace_WarnsThenLocksOnTimeInsideTheWindowNotBefore()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi");
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today, count: 2);
        var graceEnd = Policy.EndOfDay(Server.Today.AddDays(3), zone);
        var lockAt = LockWindow.SupportHours.AtOrAfter(graceEnd, zone);

        await Server.WalkAsync(lockAt.AddSeconds(-1));
        var warned = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease");
        Assert.Equal("Unlocked", warned.Str("mode"));
        Assert.Equal(NoticeKind.LockWarning, warned.GetProperty("notice").Str("kind"));
        Assert.Equal(lockAt, warned.GetProperty("notice").GetProperty("deadline").GetDateTimeOffset());
        Assert.Equal(lockAt, warned.GetProperty("unlockedUntil").GetDateTimeOffset());
        var overdue = await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}");
        Assert.Equal("Overdue", overdue.Str("status"));
        Assert.Equal(lockAt, overdue.GetProperty("nextReviewAt").GetDateTimeOffset()); // the scheduler wakes at the lock instant

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
    public async Task Review_StaysLocked_AsksForTheInstallmentItWasWarnedOf()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi");
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today, count: 2);
        var secondDue = DateOnly.Parse(plan.GetProperty("installments")[1].Str("dueDate"), System.Globalization.CultureInfo.InvariantCulture);
        await Server.WalkUntilLockedAsync(device.Id());

        // Nobody pays; the second installment passes its grace too. The phone stays locked for the first.
        await Server.WalkAsync(Policy.EndOfDay(secondDue.AddDays(4), zone));
        var lease = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease");
        Assert.Equal("Locked", lease.Str("mode"));
        Assert.Equal(100_00, lease.GetProperty("screen").Long("amountDueMinor"));
        Assert.Equal("scheduled review", lease.Str("cause"));
    }
}

public sealed class SqliteReviewTests(SqliteServer server) : ReviewTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresReviewTests(PostgresServer server) : ReviewTests(server), IClassFixture<PostgresServer>;
