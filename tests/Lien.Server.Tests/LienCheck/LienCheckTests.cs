using System.Net;
using System.Text.Json;

namespace Lien.Server.Tests.LienCheck;

/// <summary>
/// The public lien check by IMEI, with no key: financed (with the lender's name), released or unknown, and nothing
/// personal. The page is server-rendered with no script; it is tested over HTTP here and in Chromium by
/// <see cref="PublicPageBrowserTests"/>.
/// </summary>
public abstract class LienCheckTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    private Task<JsonElement> CheckAsync(string imei) => Server.Client().ReadAsync($"/v1/lien-check?imei={imei}");

    private void SkipUnlessAvailable() => Assert.SkipUnless(Server.Available, $"PostgreSQL tests need {LienServer.PostgresVariable}.");

    [Fact]
    public async Task LienCheck_UnknownFinancedReleased_TheLendersNameOnlyWhileFinanced_NothingPersonal()
    {
        SkipUnlessAvailable();
        var unknown = await CheckAsync(LenderApi.NewImei());
        Assert.Equal("Unknown", unknown.Str("status"));
        Assert.Equal(JsonValueKind.Null, unknown.GetProperty("lender").ValueKind);

        var a = await Server.NewLenderAsync(name: "Mkopo Phones", settlementHoldHours: 0);
        var device = await a.Admin.RegisterAsync(LenderApi.NewImei(), LenderApi.NewImei());
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(10), count: 1);
        foreach (var imei in new[] { device.Str("imei"), device.Str("imei2") })
        {
            var financed = await CheckAsync(imei);
            Assert.Equal("Financed", financed.Str("status"));
            Assert.Equal("Mkopo Phones", financed.Str("lender"));
            Assert.Equal(imei, financed.Str("imei"));
            // Exactly these fields: no borrower, plan, amount, device id or dates of the loan.
            Assert.Equal(["imei", "status", "lender", "explanation", "checkedAt"], financed.EnumerateObject().Select(p => p.Name));
            Assert.DoesNotContain("cust-1", financed.ToString());
            Assert.DoesNotContain(plan.Str("reference"), financed.ToString());
        }

        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        var released = await CheckAsync(device.Str("imei"));
        Assert.Equal("Released", released.Str("status"));
        Assert.Equal(JsonValueKind.Null, released.GetProperty("lender").ValueKind);

        // Financed again by another lender after release: financed, by the new lender.
        var b = await Server.NewLenderAsync(name: "Duka Credit");
        await b.Admin.RegisterAsync(device.Str("imei"));
        var again = await CheckAsync(device.Str("imei"));
        Assert.Equal("Financed", again.Str("status"));
        Assert.Equal("Duka Credit", again.Str("lender"));
    }

    [Fact]
    public async Task LienCheck_BadImei_400ThatSaysWhatAnImeiIs()
    {
        SkipUnlessAvailable();
        var valid = LenderApi.NewImei();
        var luhn = valid[..14] + (char)('0' + (valid[14] - '0' + 1) % 10);
        foreach (var (imei, expected) in new[]
                 {
                     ("", "imei is required"), ("12345", "exactly 15 digits"), ("35410000000000%00", "exactly 15 digits"),
                     (new string('9', 3000), "exactly 15 digits"), ("3541000000000O0", "exactly 15 digits"), (luhn, "fails its Luhn check"),
                 })
        {
            var p = await (await Server.Client().GetAsync($"/v1/lien-check?imei={imei}")).Problem(HttpStatusCode.BadRequest);
            Assert.Contains(expected, p.GetProperty("errors").GetProperty("imei")[0].GetString());
            Assert.DoesNotContain(new string('9', 100), p.ToString()); // a huge value is not echoed back
        }
    }

    [Fact]
    public async Task OpenApi_DescribesThePublicEndpoints_NotThePages()
    {
        SkipUnlessAvailable();
        var paths = (await Server.Client().ReadAsync("/openapi/v1.json")).GetProperty("paths");
        foreach (var path in new[] { "/v1/lien-check", "/v1/certificates/{id}", "/v1/certificates/verify", "/v1/plans/{planId}/certificate" })
            Assert.True(paths.TryGetProperty(path, out _), path);
        Assert.False(paths.TryGetProperty("/lien-check", out _));
        Assert.False(paths.TryGetProperty("/certificates/{id}", out _));
    }

    [Fact]
    public async Task LienCheckPage_FormAndAnswer_ServerRenderedWithNoScript()
    {
        var a = await Server.NewLenderAsync(name: "Mkopo Phones");
        var device = await a.Admin.RegisterAsync();
        var empty = await Server.Client().GetAsync("/lien-check");
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        Assert.Equal("text/html", empty.Content.Headers.ContentType?.MediaType);
        var form = await empty.Content.ReadAsStringAsync();
        Assert.Contains("<form method=\"get\" action=\"/lien-check\">", form);
        Assert.DoesNotContain("<script", form, StringComparison.OrdinalIgnoreCase);

        var answer = await (await Server.Client().GetAsync($"/lien-check?imei={device.Str("imei")}")).Content.ReadAsStringAsync();
        Assert.Contains($"{device.Str("imei")}: financed.", answer);
        Assert.Contains("financed by Mkopo Phones", answer);
        var unknown = await (await Server.Client().GetAsync($"/lien-check?imei={LenderApi.NewImei()}")).Content.ReadAsStringAsync();
        Assert.Contains(": unknown.", unknown);

        foreach (var bad in new[] { "12%00", "<script>alert(1)</script>", new string('1', 3000) })
        {
            var r = await Server.Client().GetAsync($"/lien-check?imei={Uri.EscapeDataString(bad)}");
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            var html = await r.Content.ReadAsStringAsync();
            Assert.Contains("imei must be exactly 15 digits", html);
            Assert.DoesNotContain("<script>alert", html);
        }
    }
}

public sealed class SqliteLienCheckTests(SqliteServer server) : LienCheckTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresLienCheckTests(PostgresServer server) : LienCheckTests(server), IClassFixture<PostgresServer>;
