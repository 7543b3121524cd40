using System.Net;

namespace Lien.Server.Tests;

/// <summary>The audit trail: every change is recorded in a hash chain, and an edited row is found. Through real HTTP, on SQLite and on PostgreSQL (see the derived classes).</summary>
public abstract class AuditTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    [Fact]
    public async Task Audit_EveryChange_HashChainedAndTamperingDetected()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(3));
        await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);
        var events = (await a.Admin.ReadAsync("/v1/audit")).EnumerateArray().ToList();
        Assert.Contains(events, e => e.Str("action") == "device.registered");
        Assert.Contains(events, e => e.Str("action") == "plan.created");
        Assert.Contains(events, e => e.Str("action") == "payment.recorded");
        Assert.Contains(events, e => e.Str("action") == "device.unlocked" && e.GetProperty("policy").GetString() == "standard");
        Assert.True((await a.Admin.ReadAsync("/v1/audit/verify")).GetProperty("intact").GetBoolean());

        var seq = events.First(e => e.Str("action") == "plan.created").Long("seq");
        await Server.WithDbAsync(async db =>
        {
            var row = db.AuditEvents.First(e => e.LenderId == a.LenderId && e.Seq == seq);
            row.Reason = "edited after the fact";
            return await db.SaveChangesAsync();
        });
        var check = await a.Admin.ReadAsync("/v1/audit/verify");
        Assert.False(check.GetProperty("intact").GetBoolean());
        Assert.Equal(seq, check.Long("brokenAt"));
    }
}

public sealed class SqliteAuditTests(SqliteServer server) : AuditTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresAuditTests(PostgresServer server) : AuditTests(server), IClassFixture<PostgresServer>;
