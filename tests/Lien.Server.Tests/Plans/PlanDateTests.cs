using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Lien.Server.Tests.Plans;

/// <summary>
/// Dates are ISO 8601 (yyyy-MM-dd) only — 01/11/2026 is refused, never read as 11 January — and a plan whose first
/// installment is already past due in the lender's time zone is refused with an explanation unless it says backdated.
/// </summary>
public abstract class PlanDateTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    private Task<int> PlansOfAsync(Guid device) => Server.WithDbAsync(db => Task.FromResult(db.Plans.Count(p => p.DeviceId == device)));

    [Theory]
    [InlineData("01/11/2026")]
    [InlineData("2026-1-5")]
    [InlineData("2026-11-01T00:00")]
    [InlineData("2026.11.01")]
    public async Task Plan_DateNotIso_400ThatSaysTheFormat_NothingWritten(string date)
    {
        var a = await Server.NewLenderAsync();
        var device = (await a.Admin.RegisterAsync()).Id();
        var generated = await (await a.Admin.PostAsync("/v1/plans", JsonBody($$$"""
            {"deviceId":"{{{device}}}","price":30000,"generate":{"count":3,"frequency":"Monthly","firstDueDate":"{{{date}}}"}}
            """))).Problem(HttpStatusCode.BadRequest);
        Assert.Equal("generate.firstDueDate must be an ISO 8601 date, yyyy-MM-dd (such as 2026-11-01).",
            generated.GetProperty("errors").GetProperty("generate.firstDueDate")[0].GetString());
        var explicitRows = await (await a.Admin.PostAsync("/v1/plans", JsonBody($$$"""
            {"deviceId":"{{{device}}}","price":30000,"installments":[{"dueDate":"2026-11-01","amount":10000},{"dueDate":"{{{date}}}","amount":20000}]}
            """))).Problem(HttpStatusCode.BadRequest);
        Assert.Contains("yyyy-MM-dd", explicitRows.GetProperty("errors").GetProperty("installments[1].dueDate")[0].GetString());
        Assert.Equal(0, await PlansOfAsync(device));
    }

    [Fact]
    public async Task Plan_FirstInstallmentPastDue_RefusedWithAnExplanation_UnlessBackdated()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var yesterday = Server.Today.AddDays(-1);
        var body = new { deviceId = device.Id(), price = 30000, generate = new { count = 3, frequency = "Monthly", firstDueDate = yesterday } };
        var p = await (await a.Admin.PostAsJsonAsync("/v1/plans", body)).Problem(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("Backdated plan", p.Str("title"));
        Assert.Contains($"falls due on {yesterday:yyyy-MM-dd}, before today ({Server.Today:yyyy-MM-dd} in Africa/Nairobi)", p.Str("detail"));
        Assert.Contains("\"backdated\": true", p.Str("detail"));
        Assert.Equal(0, await PlansOfAsync(device.Id()));
        Assert.Equal(1, (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).Long("leaseSeq")); // no new lease either

        // backdated: false is the same as not saying it.
        await (await a.Admin.PostAsJsonAsync("/v1/plans", new { body.deviceId, body.price, body.generate, backdated = false })).Problem(HttpStatusCode.UnprocessableEntity);

        var moved = await (await a.Admin.PostAsJsonAsync("/v1/plans", new { body.deviceId, body.price, body.generate, backdated = true })).Json(HttpStatusCode.Created);
        Assert.True(moved.GetProperty("backdated").GetBoolean());
        Assert.Equal("Overdue", moved.Str("status"));
        var events = (await a.Admin.ReadAsync($"/v1/audit?subject=plan:{moved.Id()}")).EnumerateArray();
        using var data = JsonDocument.Parse(Assert.Single(events, e => e.Str("action") == "plan.created").Str("data"));
        Assert.True(data.RootElement.GetProperty("backdated").GetBoolean());
    }

    [Fact]
    public async Task Plan_FirstInstallmentDueToday_NotBackdated()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today);
        Assert.False(plan.GetProperty("backdated").GetBoolean());
        // Saying backdated of a plan that is not changes nothing.
        var other = await a.Admin.RegisterAsync();
        Assert.False((await a.Admin.PlanAsync(other.Id(), Server.Today.AddDays(3), backdated: true)).GetProperty("backdated").GetBoolean());
    }

    [Fact]
    public async Task Plan_PastDue_JudgedInTheLendersTimeZone()
    {
        // 09:00 UTC on 1 March: already 1 March 23:00 at Kiritimati (UTC+14), still 28 February 22:00 at Pago Pago (UTC-11).
        Server.Time.Advance(TimeSpan.FromHours(24 + 9) - TimeSpan.FromTicks(Server.Time.GetUtcNow().TimeOfDay.Ticks));
        var utcDay = DateOnly.FromDateTime(Server.Time.GetUtcNow().UtcDateTime);
        var east = await Server.NewLenderAsync(zone: "Pacific/Kiritimati");
        var west = await Server.NewLenderAsync(zone: "Pacific/Pago_Pago");
        var yesterdayUtc = utcDay.AddDays(-1);
        var refused = await (await east.Admin.PostAsJsonAsync("/v1/plans", new
        {
            deviceId = (await east.Admin.RegisterAsync()).Id(), price = 30000, generate = new { count = 1, frequency = "Monthly", firstDueDate = yesterdayUtc },
        })).Problem(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("Pacific/Kiritimati", refused.Str("detail"));
        var accepted = await west.Admin.PlanAsync((await west.Admin.RegisterAsync()).Id(), yesterdayUtc, count: 1);
        Assert.False(accepted.GetProperty("backdated").GetBoolean());
    }

    private static StringContent JsonBody(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}

public sealed class SqlitePlanDateTests(SqliteServer server) : PlanDateTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresPlanDateTests(PostgresServer server) : PlanDateTests(server), IClassFixture<PostgresServer>;
