using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Lien.Server.Tests.Payments;

/// <summary>
/// Money mistakes are recoverable: an overpayment's excess is credit flagged for refund, and payoff releases the phone
/// only after the settlement hold — Unlocked with no deadline until then, released by the scheduled review at its end,
/// and a reversal inside it returns the plan to active with nothing released. The server's clock is a FakeTimeProvider.
/// </summary>
public abstract class SettlementHoldTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    private async Task<(Tenant Lender, Guid Device, Guid Plan, string Imei)> PlanAsync(int? holdHours = null)
    {
        var a = await Server.NewLenderAsync(settlementHoldHours: holdHours);
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(10), count: 3, each: 100_00);
        return (a, device.Id(), plan.Id(), device.Str("imei"));
    }

    private static Task<JsonElement> LeaseAsync(Tenant a, Guid device) => a.Admin.ReadAsync($"/v1/devices/{device}/lease");

    private async Task<string> LienStatusAsync(string imei) => (await Server.Client().ReadAsync($"/v1/lien-check?imei={imei}")).Str("status");

    // Whole seconds: what the lease and the plan record.
    private DateTimeOffset Now => DateTimeOffset.FromUnixTimeSeconds(Server.Time.GetUtcNow().ToUnixTimeSeconds());

    [Fact]
    public async Task Payoff_DefaultHold_UnlockedWithNoDeadline_ReleasedByTheReviewAtTheEndOf72Hours()
    {
        var (a, device, plan, imei) = await PlanAsync();
        var paidAt = Now;
        var pay = await (await a.Admin.PayAsync(plan, 300_00)).Json(HttpStatusCode.Created);
        Assert.Equal("Unlocked", pay.Str("leaseMode"));

        var lease = await LeaseAsync(a, device);
        Assert.Equal("Unlocked", lease.Str("mode"));
        Assert.Equal(JsonValueKind.Null, lease.GetProperty("unlockedUntil").ValueKind); // no deadline during the hold
        Assert.Contains($"released on {paidAt.AddHours(72).ToOffset(TimeSpan.FromHours(3)):yyyy-MM-dd}", lease.GetProperty("screen").Str("message"));
        Assert.Equal(0, lease.GetProperty("screen").Long("amountDueMinor"));
        var view = await a.Admin.ReadAsync($"/v1/plans/{plan}");
        Assert.Equal("PaidOff", view.Str("lifecycle"));
        Assert.Equal(paidAt.AddHours(72), view.GetProperty("settlementHoldUntil").GetDateTimeOffset());
        Assert.Equal(paidAt.AddHours(72), view.GetProperty("nextReviewAt").GetDateTimeOffset()); // the review wakes at the hold's end
        Assert.Equal(JsonValueKind.Null, (await a.Admin.ReadAsync($"/v1/devices/{device}")).GetProperty("releasedAt").ValueKind);
        Assert.Equal("Financed", await LienStatusAsync(imei));
        await (await a.Admin.GetAsync($"/v1/plans/{plan}/certificate")).Problem(HttpStatusCode.NotFound);

        // A second before the end nothing changes; at the end the scheduled review releases the phone.
        Server.Time.Advance(paidAt.AddHours(72) - Server.Time.GetUtcNow() - TimeSpan.FromSeconds(1));
        await Server.ReviewAsync();
        Assert.Equal(lease.Long("seq"), (await LeaseAsync(a, device)).Long("seq"));
        Server.Time.Advance(TimeSpan.FromSeconds(1));
        await Server.ReviewAsync();
        var released = await LeaseAsync(a, device);
        Assert.Equal("Released", released.Str("mode"));
        Assert.Equal("scheduled review", released.Str("cause"));
        Assert.Equal(paidAt.AddHours(72), (await a.Admin.ReadAsync($"/v1/devices/{device}")).GetProperty("releasedAt").GetDateTimeOffset());
        Assert.Equal("Released", await LienStatusAsync(imei));
        Assert.Equal(JsonValueKind.Null, (await a.Admin.ReadAsync($"/v1/plans/{plan}")).GetProperty("nextReviewAt").ValueKind);
        await (await a.Admin.GetAsync($"/v1/plans/{plan}/certificate")).Json(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Reversal_InsideTheHold_PlanActiveAgain_NothingReleasedEver()
    {
        var (a, device, plan, imei) = await PlanAsync();
        var payment = await (await a.Admin.PayAsync(plan, 300_00)).Json(HttpStatusCode.Created);
        Server.Time.Advance(TimeSpan.FromHours(71));
        var reversal = await (await a.Admin.PostAsJsonAsync($"/v1/payments/{payment.Id()}/reversal", new { reason = "charge-back" })).Json(HttpStatusCode.Created);
        Assert.Equal("Unlocked", reversal.Str("leaseMode"));

        var view = await a.Admin.ReadAsync($"/v1/plans/{plan}");
        Assert.Equal("Active", view.Str("lifecycle"));
        Assert.Equal(300_00, view.Long("outstanding"));
        Assert.Equal(JsonValueKind.Null, view.GetProperty("settlementHoldUntil").ValueKind);
        var lease = await LeaseAsync(a, device);
        Assert.Equal("Unlocked", lease.Str("mode"));
        Assert.NotEqual(JsonValueKind.Null, lease.GetProperty("unlockedUntil").ValueKind); // a deadline again: the plan is owed

        // Past the hold's end: still financed, never released, no certificate.
        Server.Time.Advance(TimeSpan.FromHours(2));
        await Server.ReviewAsync();
        Assert.NotEqual("Released", (await LeaseAsync(a, device)).Str("mode"));
        Assert.Equal(JsonValueKind.Null, (await a.Admin.ReadAsync($"/v1/devices/{device}")).GetProperty("releasedAt").ValueKind);
        Assert.Equal("Financed", await LienStatusAsync(imei));
        await (await a.Admin.GetAsync($"/v1/plans/{plan}/certificate")).Problem(HttpStatusCode.NotFound);
        var modes = (await a.Admin.ReadAsync($"/v1/devices/{device}/leases")).EnumerateArray().Select(l => l.Str("mode"));
        Assert.DoesNotContain("Released", modes);
    }

    [Fact]
    public async Task Reversal_AfterRelease_PlanOwesAgain_ThePhoneStaysReleased_TheCertificateStillVerifies()
    {
        var (a, device, plan, imei) = await PlanAsync(holdHours: 1);
        var payment = await (await a.Admin.PayAsync(plan, 300_00)).Json(HttpStatusCode.Created);
        Server.Time.Advance(TimeSpan.FromHours(1));
        await Server.ReviewAsync();
        Assert.Equal("Released", (await LeaseAsync(a, device)).Str("mode"));
        var certificate = await a.Admin.ReadAsync($"/v1/plans/{plan}/certificate");

        // Released is final: a reversal now reopens the debt for the lender to collect, but cannot lock the phone again.
        var reversal = await (await a.Admin.PostAsJsonAsync($"/v1/payments/{payment.Id()}/reversal", new { reason = "charge-back after release" }))
            .Json(HttpStatusCode.Created);
        Assert.Equal("Released", reversal.Str("leaseMode"));
        var view = await a.Admin.ReadAsync($"/v1/plans/{plan}");
        Assert.Equal("Active", view.Str("lifecycle"));
        Assert.Equal(300_00, view.Long("outstanding"));
        Assert.Equal(JsonValueKind.Null, view.GetProperty("nextReviewAt").ValueKind);
        Server.Time.Advance(TimeSpan.FromDays(60));
        await Server.ReviewAsync();
        Assert.Equal("Released", (await LeaseAsync(a, device)).Str("mode"));
        Assert.Equal("Released", await LienStatusAsync(imei));
        var check = await Server.Client().ReadAsync($"/v1/certificates/{certificate.Id()}");
        Assert.True(check.GetProperty("valid").GetBoolean(), check.ToString());
    }

    [Fact]
    public async Task HoldEnd_ReviewsAndAReversalRacing_OneConsistentOutcome()
    {
        var (a, device, plan, imei) = await PlanAsync(holdHours: 1);
        var payment = await (await a.Admin.PayAsync(plan, 300_00)).Json(HttpStatusCode.Created);
        Server.Time.Advance(TimeSpan.FromHours(1));
        var reviews = Enumerable.Range(0, 4).Select(_ => Server.ReviewAsync()).ToList();
        var reversal = Server.Client(a.Token).PostAsJsonAsync($"/v1/payments/{payment.Id()}/reversal", new { reason = "charge-back at the hold's end" });
        await Task.WhenAll(reviews);
        await (await reversal).Json(HttpStatusCode.Created);

        // Whichever committed first, the plan owes again; the phone was released (with one certificate) or never was.
        var view = await a.Admin.ReadAsync($"/v1/plans/{plan}");
        Assert.Equal("Active", view.Str("lifecycle"));
        Assert.Equal(300_00, view.Long("outstanding"));
        var released = (await a.Admin.ReadAsync($"/v1/devices/{device}")).GetProperty("releasedAt").ValueKind != JsonValueKind.Null;
        Assert.Equal(released ? 1 : 0, await Server.WithDbAsync(db => Task.FromResult(db.Set<Lien.Server.Certificates.PayoffCertificate>().Count(c => c.PlanId == plan))));
        Assert.Equal(released, (await LeaseAsync(a, device)).Str("mode") == "Released");
        Assert.Equal(released ? "Released" : "Financed", await LienStatusAsync(imei));
    }

    [Fact]
    public async Task Payoff_HoldOfZero_ReleasedAtOnceWithItsCertificate()
    {
        var (a, device, plan, imei) = await PlanAsync(holdHours: 0);
        var pay = await (await a.Admin.PayAsync(plan, 300_00)).Json(HttpStatusCode.Created);
        Assert.Equal("Released", pay.Str("leaseMode"));
        Assert.Equal("Released", await LienStatusAsync(imei));
        await (await a.Admin.GetAsync($"/v1/plans/{plan}/certificate")).Json(HttpStatusCode.OK);
        Assert.Equal("Released", (await LeaseAsync(a, device)).Str("mode"));
    }

    [Fact]
    public async Task Overpayment_TypedIn999999999_RecordedAsCreditForRefund_ReversedInsideTheHold_NothingReleased()
    {
        var (a, device, plan, imei) = await PlanAsync();
        await (await a.Admin.PayAsync(plan, 50_00)).Json(HttpStatusCode.Created);
        var typo = await (await a.Admin.PayAsync(plan, 999_999_999)).Json(HttpStatusCode.Created);
        Assert.Equal(999_999_999, typo.Long("amount"));
        Assert.Equal("Unlocked", typo.Str("leaseMode"));

        var view = await a.Admin.ReadAsync($"/v1/plans/{plan}");
        Assert.Equal(0, view.Long("outstanding"));
        Assert.Equal(50_00 + 999_999_999 - 300_00, view.Long("refundDue"));
        Assert.Equal(view.Long("credit"), view.Long("refundDue"));
        var events = (await a.Admin.ReadAsync($"/v1/audit?subject=plan:{plan}")).EnumerateArray().ToList();
        var flagged = Assert.Single(events, e => e.Str("action") == "plan.credit-recorded");
        using (var data = JsonDocument.Parse(flagged.Str("data")))
            Assert.Equal(50_00 + 999_999_999 - 300_00, data.RootElement.GetProperty("excess").GetInt64());

        await (await a.Admin.PostAsJsonAsync($"/v1/payments/{typo.Id()}/reversal", new { reason = "typed one digit too many" })).Json(HttpStatusCode.Created);
        view = await a.Admin.ReadAsync($"/v1/plans/{plan}");
        Assert.Equal(0, view.Long("refundDue"));
        Assert.Equal(250_00, view.Long("outstanding"));
        Server.Time.Advance(TimeSpan.FromDays(4));
        await Server.ReviewAsync();
        Assert.Equal("Financed", await LienStatusAsync(imei));
        Assert.NotEqual("Released", (await LeaseAsync(a, device)).Str("mode"));
    }

    [Fact]
    public async Task Overpayment_OfAnOrdinaryPayment_NoCreditEvent()
    {
        var (a, _, plan, _) = await PlanAsync();
        await (await a.Admin.PayAsync(plan, 150_00)).Json(HttpStatusCode.Created);
        var events = (await a.Admin.ReadAsync($"/v1/audit?subject=plan:{plan}")).EnumerateArray();
        Assert.DoesNotContain(events, e => e.Str("action") == "plan.credit-recorded");
        Assert.Equal(0, (await a.Admin.ReadAsync($"/v1/plans/{plan}")).Long("refundDue"));
    }

    [Fact]
    public async Task LenderOverride_WithinBounds_ShortensTheHold_OutsideRefused()
    {
        var (a, device, plan, _) = await PlanAsync();
        Assert.Equal(72, (await a.Admin.ReadAsync("/v1/lender")).GetProperty("settings").GetProperty("settlementHoldHours").GetInt32());
        foreach (var bad in new[] { -1, 337, 100_000 })
        {
            var p = await (await a.Admin.PatchAsJsonAsync("/v1/lender", new { settlementHoldHours = bad })).Problem(HttpStatusCode.BadRequest);
            Assert.Contains("settlementHoldHours must be between 0", p.Str("detail"));
        }
        await (await a.Admin.PatchAsJsonAsync("/v1/lender", new { settlementHoldHours = 24 })).Json(HttpStatusCode.OK);
        var paidAt = Now;
        await (await a.Admin.PayAsync(plan, 300_00)).Json(HttpStatusCode.Created);
        Assert.Equal(paidAt.AddHours(24), (await a.Admin.ReadAsync($"/v1/plans/{plan}")).GetProperty("settlementHoldUntil").GetDateTimeOffset());
        Server.Time.Advance(TimeSpan.FromHours(24));
        await Server.ReviewAsync();
        Assert.Equal("Released", (await LeaseAsync(a, device)).Str("mode"));
    }
}

public sealed class SqliteSettlementHoldTests(SqliteServer server) : SettlementHoldTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresSettlementHoldTests(PostgresServer server) : SettlementHoldTests(server), IClassFixture<PostgresServer>;

/// <summary>
/// The hold on the real clock: the paid-off instant goes through the database (SQLite keeps 0.1 ms, PostgreSQL 1 µs), and
/// the hold's end, the plan's next review and the certificate's release instant must still agree to the second.
/// </summary>
public abstract class SettlementHoldRealClockTests(LienServer server)
{
    [Fact]
    public async Task Payoff_RealClock_HoldEndEqualsNextReview_CertificateReleaseEqualsTheDevices()
    {
        var held = await server.NewLenderAsync(settlementHoldHours: 1);
        var device = await held.Admin.RegisterAsync();
        var plan = await held.Admin.PlanAsync(device.Id(), server.Today.AddDays(10), count: 1);
        await (await held.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        var view = await held.Admin.ReadAsync($"/v1/plans/{plan.Id()}");
        var closed = view.GetProperty("closedAt").GetDateTimeOffset();
        Assert.Equal(0, closed.Ticks % TimeSpan.TicksPerSecond);
        Assert.Equal(closed.AddHours(1), view.GetProperty("settlementHoldUntil").GetDateTimeOffset());
        Assert.Equal(closed.AddHours(1), view.GetProperty("nextReviewAt").GetDateTimeOffset());

        var free = await server.NewLenderAsync(settlementHoldHours: 0);
        var other = await free.Admin.RegisterAsync();
        var paidOff = await free.Admin.PlanAsync(other.Id(), server.Today.AddDays(10), count: 1);
        await (await free.Admin.PayAsync(paidOff.Id(), 100_00)).Json(HttpStatusCode.Created);
        var released = (await free.Admin.ReadAsync($"/v1/devices/{other.Id()}")).GetProperty("releasedAt").GetDateTimeOffset();
        var certificate = await free.Admin.ReadAsync($"/v1/plans/{paidOff.Id()}/certificate");
        Assert.Equal(released, certificate.GetProperty("claims").GetProperty("releasedAt").GetDateTimeOffset());
        Assert.Equal(released, certificate.GetProperty("issuedAt").GetDateTimeOffset());
        var check = await server.Client().ReadAsync($"/v1/certificates/{certificate.Id()}");
        Assert.True(check.GetProperty("valid").GetBoolean(), check.ToString());
    }
}

public sealed class SqliteSettlementHoldRealClockTests(SqliteRealClockServer server) : SettlementHoldRealClockTests(server), IClassFixture<SqliteRealClockServer>;

public sealed class PostgresSettlementHoldRealClockTests(PostgresRealClockServer server) : SettlementHoldRealClockTests(server), IClassFixture<PostgresRealClockServer>;
