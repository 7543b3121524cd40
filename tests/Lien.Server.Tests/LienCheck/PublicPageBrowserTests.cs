using System.Net;
using Microsoft.Playwright;

namespace Lien.Server.Tests.LienCheck;

/// <summary>
/// The public pages a buyer of a used phone opens — the lien check and a payoff certificate — in a real Chromium at a
/// phone's width: the form works, the answer is read out as a status, the certificate page shows its verdict, and axe-core
/// finds nothing serious or critical. (The pages are the same on both databases; SQLite serves them here.)
/// </summary>
public sealed class PublicPageBrowserTests(SqliteServer server, Chromium chromium) : IClassFixture<SqliteServer>, IClassFixture<Chromium>
{
    [Fact]
    public async Task LienCheckPage_FinancedPhone_TheFormAnswersFinancedWithTheLender_Accessible()
    {
        var a = await server.NewLenderAsync(name: "Mkopo Phones");
        var device = await a.Admin.RegisterAsync(LenderApi.NewImei());
        await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(10), count: 1);

        // The page has no script: it works with JavaScript off (axe-core, a script itself, needs it on).
        var page = await chromium.NewPageAsync(server.Client().BaseAddress!, javaScript: false);
        var response = await page.GotoAsync("/lien-check");
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        await page.GetByLabel("IMEI").FillAsync(device.Str("imei"));
        await page.GetByRole(AriaRole.Button).ClickAsync();
        Assert.Contains($"{device.Str("imei")}: financed", await page.GetByRole(AriaRole.Status).InnerTextAsync());

        page = await chromium.NewPageAsync(server.Client().BaseAddress!);
        response = await page.GotoAsync("/lien-check");
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        await Chromium.AssertAccessibleAsync(page);

        await page.GetByLabel("IMEI").FillAsync(device.Str("imei"));
        await page.GetByRole(AriaRole.Button).ClickAsync();
        var status = page.GetByRole(AriaRole.Status);
        Assert.Contains($"{device.Str("imei")}: financed", await status.InnerTextAsync());
        Assert.Contains("Mkopo Phones", await status.InnerTextAsync());
        await Chromium.AssertAccessibleAsync(page);
    }

    [Fact]
    public async Task CertificatePage_PaidOffPlan_ShowsTheVerifiedCertificate_Accessible()
    {
        var a = await server.NewLenderAsync(name: "Mkopo Phones", settlementHoldHours: 0);
        var device = await a.Admin.RegisterAsync(LenderApi.NewImei());
        var plan = await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(10), count: 1);
        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        var certificate = await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}/certificate");

        var page = await chromium.NewPageAsync(server.Client().BaseAddress!);
        var response = await page.GotoAsync(certificate.Str("pageUrl"));
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        var text = await page.Locator("main").InnerTextAsync();
        Assert.Contains(device.Str("imei"), text);
        Assert.Contains(plan.Str("reference"), text);
        Assert.Contains("Verified:", text);
        await Chromium.AssertAccessibleAsync(page);
    }
}
