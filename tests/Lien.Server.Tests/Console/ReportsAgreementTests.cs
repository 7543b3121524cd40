using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Lien.Server.Tests.Console;

/// <summary>The dashboard and <c>/v1/reports</c> read one computation: the same figures on the same data, on both databases.</summary>
public abstract partial class ReportsAgreementTests(LienServer server)
{
    [Fact]
    public async Task Dashboard_AndReportsApi_AgreeOnEveryFigure()
    {
        var a = await server.NewLenderAsync();
        var current = await a.Admin.RegisterAsync(LenderApi.NewImei());
        var currentPlan = await a.Admin.PlanAsync(current.Id(), server.Today.AddDays(10));
        await (await a.Admin.PayAsync(currentPlan.Id(), 40_00)).Json(HttpStatusCode.Created);
        var late = await a.Admin.RegisterAsync(LenderApi.NewImei());
        await a.Admin.PlanAsync(late.Id(), server.Today.AddDays(-40), backdated: true);
        var veryLate = await a.Admin.RegisterAsync(LenderApi.NewImei());
        await a.Admin.PlanAsync(veryLate.Id(), server.Today.AddDays(-100), count: 6, backdated: true);
        await a.Admin.RegisterAsync(LenderApi.NewImei()); // no plan
        var b = await server.NewLenderAsync(); // another lender's figures stay its own
        await b.Admin.PlanAsync((await b.Admin.RegisterAsync(LenderApi.NewImei())).Id(), server.Today.AddDays(-50), backdated: true);

        var api = await a.Admin.ReadAsync("/v1/reports/dashboard");
        var html = await (await server.ConsoleAsync(await server.NewConsoleUserAsync(a, "viewer"))).GetStringAsync("/console");
        var figures = Figures(html);

        var devices = api.GetProperty("devices");
        Assert.Equal(4, new[] { "unlocked", "notice", "locked", "released" }.Sum(k => devices.GetProperty(k).GetInt32()));
        foreach (var k in new[] { "unlocked", "notice", "locked", "released" })
            Assert.Equal(devices.GetProperty(k).GetInt32().ToString(CultureInfo.InvariantCulture), figures[$"devices.{k}"]);
        var aging = api.GetProperty("aging").EnumerateArray().ToDictionary(x => x.Str("label"), x => x.GetProperty("plans").GetInt32());
        Assert.Equal(1, aging["31-90"]);
        Assert.Equal(1, aging["90+"]);
        foreach (var (label, plans) in aging) Assert.Equal(plans.ToString(CultureInfo.InvariantCulture), figures[$"aging.{label}.plans"]);
        var par = api.GetProperty("par").EnumerateArray().Last();
        Assert.True(par.GetProperty("par30").GetDecimal() > 0.5m, par.ToString());
        Assert.Equal(Pct(par.GetProperty("par30").GetDecimal()), figures["par30"]);
        Assert.Equal(Pct(par.GetProperty("par90").GetDecimal()), figures["par90"]);
        Assert.Equal(Pct(api.GetProperty("collections").EnumerateArray().Last().GetProperty("rate").GetDecimal()), figures["collection-rate"]);
        Assert.Equal("1", figures["payments-30d"]);
        Assert.Equal(api.GetProperty("openDisputes").GetInt32().ToString(CultureInfo.InvariantCulture), figures["open-disputes"]);
        Assert.Equal(api.GetProperty("par").EnumerateArray().Last().GetProperty("par30").GetDecimal(),
            (await a.Admin.ReadAsync("/v1/reports/par")).EnumerateArray().Last().GetProperty("par30").GetDecimal());
    }

    [Fact]
    public async Task UnlockLatency_PaymentUnlockAppliedLater_CountsOnlyUnlocks_PageAndApiAgree()
    {
        var a = await server.NewLenderAsync(enrollment: "open");
        var device = await a.Admin.RegisterAsync(LenderApi.NewImei());
        var plan = await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(10));
        await server.WalkUntilLockedAsync(device.Id());
        var phone = server.Client();
        var enrolled = await phone.EnrollAsync(device.Str("imei"));
        await phone.AckAsync(enrolled.DeviceToken, enrolled.Seq); // the Locked lease: not an unlock

        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        var unlock = (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).Long("seq");
        server.Time.Advance(TimeSpan.FromMilliseconds(1500));
        await phone.AckAsync(enrolled.DeviceToken, unlock);

        var api = await a.Admin.ReadAsync("/v1/reports/unlock-latency");
        Assert.Equal(1, api.GetProperty("unlocks").GetInt32());
        Assert.InRange(api.GetProperty("p50Ms").GetInt64(), 1500, 1600);
        var figures = Figures(await (await server.ConsoleAsync(await server.NewConsoleUserAsync(a, "viewer"))).GetStringAsync("/console"));
        Assert.Equal("1", figures["unlocks"]);
        Assert.Equal($"{api.GetProperty("p50Ms").GetInt64()} ms", figures["latency.p50"]);
        Assert.Equal($"{api.GetProperty("p99Ms").GetInt64()} ms", figures["latency.p99"]);
    }

    [Theory]
    [InlineData("/v1/reports/dashboard")]
    [InlineData("/v1/reports/par?weeks=%00")]
    [InlineData("/v1/reports/aging")]
    [InlineData("/v1/reports/devices-by-state")]
    [InlineData("/v1/reports/unlock-latency")]
    public async Task Reports_WithoutAKey_401_AndNever500(string url)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client().GetAsync(url)).StatusCode);
        var a = await server.NewLenderAsync();
        var viewer = await a.KeyAsync("viewer", server);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync(url)).StatusCode);
    }

    private static string Pct(decimal r) => (r * 100).ToString("0.##", CultureInfo.InvariantCulture) + " %";

    internal static Dictionary<string, string> Figures(string html) =>
        FigureRegex().Matches(html).ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value).Trim());

    [GeneratedRegex("data-figure=\"([^\"]+)\">([^<]*)<")]
    private static partial Regex FigureRegex();
}

public sealed class SqliteReportsAgreementTests(SqliteServer server) : ReportsAgreementTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresReportsAgreementTests(PostgresServer server) : ReportsAgreementTests(server), IClassFixture<PostgresServer>;
