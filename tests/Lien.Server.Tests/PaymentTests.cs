using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Lien.Server.Tests;

/// <summary>Payments: idempotent posting, allocation to installments, reversal and payoff, and bad payments refused. Through real HTTP, on SQLite and on PostgreSQL (see the derived classes).</summary>
public abstract class PaymentTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    [Fact]
    public async Task Payments_SamePaymentPostedConcurrently_RecordedOnce()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(10));
        var clients = Enumerable.Range(0, 8).Select(_ => Server.Client(a.Token)).ToList();
        var responses = await Task.WhenAll(clients.Select(c => c.PayAsync(plan.Id(), 70_00, "MPESA-TX-1")));

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, r.StatusCode.ToString()));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        var ids = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<JsonElement>()).Id()));
        Assert.Single(ids.Distinct());
        Assert.Single((await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}/payments")).EnumerateArray());
        Assert.Equal(70_00, (await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}")).Long("paid"));

        // The same transaction id with another amount is a conflict, not a second payment.
        await (await a.Admin.PayAsync(plan.Id(), 80_00, "MPESA-TX-1")).Problem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Payments_AllocationReversalAndPayoff_FollowTheLedger()
    {
        var a = await Server.NewLenderAsync(settlementHoldHours: 0);
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(10), count: 3, each: 100_00);

        var p1 = await (await a.Admin.PayAsync(plan.Id(), 150_00)).Json(HttpStatusCode.Created);
        var view = await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}");
        Assert.Equal([100_00L, 50_00L, 0L], view.GetProperty("installments").EnumerateArray().Select(i => i.Long("paid")));
        Assert.Equal(150_00, view.Long("outstanding"));

        var reversal = await (await a.Admin.PostAsJsonAsync($"/v1/payments/{p1.Id()}/reversal", new { reason = "provider reversed: wrong account" })).Json(HttpStatusCode.Created);
        Assert.Equal(-150_00, reversal.Long("amount"));
        Assert.Equal("Reversal", reversal.Str("kind"));
        await (await a.Admin.PostAsJsonAsync($"/v1/payments/{p1.Id()}/reversal", new { reason = "again" })).Problem(HttpStatusCode.Conflict);
        await (await a.Admin.PostAsJsonAsync($"/v1/payments/{reversal.Id()}/reversal", new { reason = "undo" })).Problem(HttpStatusCode.Conflict);
        await (await a.Admin.PostAsJsonAsync($"/v1/payments/{p1.Id()}/reversal", new { })).Problem(HttpStatusCode.BadRequest);
        view = await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}");
        Assert.Equal(0, view.Long("paid"));
        Assert.Equal(2, (await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}/payments")).GetArrayLength()); // append-only

        await (await a.Admin.PayAsync(plan.Id(), 250_00)).Json(HttpStatusCode.Created);
        var last = await (await a.Admin.PayAsync(plan.Id(), 80_00)).Json(HttpStatusCode.Created);
        Assert.Equal("Released", last.Str("leaseMode"));
        view = await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}");
        Assert.Equal("PaidOff", view.Str("status"));
        Assert.Equal("PaidOff", view.Str("lifecycle"));
        Assert.Equal(30_00, view.Long("credit"));
        Assert.NotNull((await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).GetProperty("releasedAt").GetString());

        // A reversal after payoff reopens the debt, but Released is final.
        await (await a.Admin.PostAsJsonAsync($"/v1/payments/{last.Id()}/reversal", new { reason = "chargeback" })).Json(HttpStatusCode.Created);
        view = await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}");
        Assert.Equal("Active", view.Str("lifecycle"));
        Assert.Equal(50_00, view.Long("outstanding"));
        Assert.Equal("Released", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).Str("mode"));
    }

    [Theory]
    [InlineData("""{"amount":0}""", "amount")]
    [InlineData("""{"amount":-5}""", "amount")]
    [InlineData("""{"currency":"USD"}""", "Wrong currency")]
    [InlineData("""{"currency":"XXQ"}""", "currency")]
    [InlineData("""{"unknownPlan":true}""", "Unknown plan")]
    public async Task Payments_BadPayment_ClearProblemAndNothingStored(string twist, string expected)
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(10));
        var t = JsonDocument.Parse(twist).RootElement;
        var body = new
        {
            planId = t.TryGetProperty("unknownPlan", out _) ? Guid.NewGuid() : plan.Id(),
            amount = t.TryGetProperty("amount", out var amt) ? amt.GetInt64() : 100,
            currency = t.TryGetProperty("currency", out var cur) ? cur.GetString() : "KES",
            provider = "mpesa",
            providerTransactionId = "TX-BAD",
        };
        var r = await a.Admin.PostAsJsonAsync("/v1/payments", body);
        Assert.True((int)r.StatusCode is >= 400 and < 500);
        var problem = await r.Problem(r.StatusCode);
        Assert.Contains(expected, problem.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(0, (await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}/payments")).GetArrayLength());
        Assert.Equal(0, (await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}")).Long("paid"));
    }
}

public sealed class SqlitePaymentTests(SqliteServer server) : PaymentTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresPaymentTests(PostgresServer server) : PaymentTests(server), IClassFixture<PostgresServer>;
