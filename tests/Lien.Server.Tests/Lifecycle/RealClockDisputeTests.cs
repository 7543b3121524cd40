using System.Net;
using System.Net.Http.Json;

namespace Lien.Server.Tests.Lifecycle;

/// <summary>
/// With the real clock (sub-millisecond instants, which SQLite keeps to 0.1 ms and PostgreSQL to 1 µs): a dispute's opening,
/// its bound and a goodwill unlock are stored in whole seconds, so the instant the plan's review wakes at is the one stored.
/// </summary>
public abstract class RealClockDisputeTests(LienServer server)
{
    [Fact]
    public async Task Dispute_RealClock_StoredInstantsAreTheOnesTheReviewUses()
    {
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(-4), count: 2, backdated: true);
        var opened = await (await a.Admin.PostAsJsonAsync($"/v1/plans/{plan.Id()}/disputes", new { kind = "Paid", transactionReference = "QK7 5" }))
            .Json(HttpStatusCode.Created);
        var read = await a.Admin.ReadAsync($"/v1/disputes/{opened.Id()}");
        var openedAt = read.GetProperty("openedAt").GetDateTimeOffset();
        Assert.Equal(opened.GetProperty("openedAt").GetDateTimeOffset(), openedAt);
        Assert.Equal(0, openedAt.UtcTicks % TimeSpan.TicksPerSecond);
        Assert.Equal(openedAt.AddDays(7), read.GetProperty("expiresAt").GetDateTimeOffset());
        var goodwill = await (await a.Admin.PostAsJsonAsync($"/v1/devices/{device.Id()}/goodwill-unlock", new { hours = 2, reason = "call" })).Json(HttpStatusCode.OK);
        Assert.Equal(openedAt, goodwill.GetProperty("disputeOpenedAt").GetDateTimeOffset());
        Assert.Equal(0, goodwill.GetProperty("goodwillUntil").GetDateTimeOffset().UtcTicks % TimeSpan.TicksPerSecond);
        Assert.True(goodwill.GetProperty("nextReviewAt").GetDateTimeOffset() <= openedAt.AddDays(7)); // it wakes by the dispute's bound
    }
}

public sealed class SqliteRealClockDisputeTests(SqliteRealClockServer server) : RealClockDisputeTests(server), IClassFixture<SqliteRealClockServer>;

public sealed class PostgresRealClockDisputeTests(PostgresRealClockServer server) : RealClockDisputeTests(server), IClassFixture<PostgresRealClockServer>;
