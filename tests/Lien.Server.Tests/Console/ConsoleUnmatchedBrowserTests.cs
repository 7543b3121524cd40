using System.Net;
using System.Text;
using System.Text.Json;
using Lien.Server.Tests.Mpesa;
using Microsoft.Playwright;

namespace Lien.Server.Tests.Console;

/// <summary>
/// The unmatched-payments queue in the console: an M-Pesa payment whose account names no plan waits there (and on the
/// dashboard); an operator assigns it to the plan by reference with a reason, the locked phone is unlocked at once, and
/// the queue and the dashboard are empty again. A viewer sees the queue but has no forms.
/// </summary>
public sealed class ConsoleUnmatchedBrowserTests(SqliteMpesaServer server, Chromium chromium) : IClassFixture<SqliteMpesaServer>, IClassFixture<Chromium>
{
    [Fact]
    public async Task UnmatchedPayment_OnTheDashboard_AssignedByReference_UnlocksThePhone_ViewerCannotAct()
    {
        var (a, settings) = await server.NewMpesaLenderAsync();
        var device = await a.Admin.RegisterAsync(LenderApi.NewImei());
        var plan = await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(10));
        await server.WalkUntilLockedAsync(device.Id());
        var confirmation = settings.GetProperty("callbackUrls").Str("confirmation");
        var body = JsonSerializer.Serialize(new
        {
            TransactionType = "Pay Bill", TransID = "UQ" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant(), TransTime = "20260301120000",
            TransAmount = "100.00", BusinessShortCode = "600638", BillRefNumber = "my phone", MSISDN = "254712345678", FirstName = "Amina",
        });
        Assert.Equal(HttpStatusCode.OK, (await server.Client().PostAsync(confirmation, new StringContent(body, Encoding.UTF8, "application/json"))).StatusCode);

        var viewer = await server.NewConsoleUserAsync(a, "viewer");
        var look = await chromium.NewPageAsync(server.Client().BaseAddress!, width: 1280, height: 900);
        await look.LogInAsync(server, viewer);
        await look.GotoAsync("/console");
        Assert.Equal("1", await look.Locator("[data-figure='unmatched-payments']").InnerTextAsync());
        await look.GotoAsync("/console/payments/unmatched");
        Assert.Contains("my phone", await look.Locator("main").InnerTextAsync());
        Assert.Contains("+2547", await look.Locator("main").InnerTextAsync());
        Assert.DoesNotContain("254712345678", await look.Locator("main").InnerTextAsync());
        Assert.Equal(0, await look.GetByRole(AriaRole.Button, new() { Name = "Assign" }).CountAsync());
        await Chromium.AssertAccessibleAsync(look);

        var user = await server.NewConsoleUserAsync(a, "operator");
        var page = await chromium.NewPageAsync(server.Client().BaseAddress!, width: 1280, height: 900);
        await page.LogInAsync(server, user);
        await page.GotoAsync("/console/payments/unmatched");
        await Chromium.AssertAccessibleAsync(page);
        await page.GetByLabel("Plan reference").FillAsync(plan.Str("reference").ToLowerInvariant());
        await page.GetByLabel("Reason", new() { Exact = true }).FillAsync("Borrower called: paid for their own phone.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Assign" }).ClickAsync();
        Assert.Contains("Assigned to " + plan.Str("reference"), await page.GetByRole(AriaRole.Status).InnerTextAsync());
        await Chromium.AssertAccessibleAsync(page);
        Assert.Equal("Unlocked", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).Str("leaseMode"));
        await page.GotoAsync("/console");
        Assert.Equal("0", await page.Locator("[data-figure='unmatched-payments']").InnerTextAsync());
        Assert.Equal(0, (await a.Admin.ReadAsync("/v1/reports/dashboard")).GetProperty("unmatchedPayments").GetInt32());
    }

    [Fact]
    public async Task MpesaSettings_SetInTheConsole_SecretsNeverShown_UrlsRegisteredWithDaraja()
    {
        var a = await server.NewLenderAsync();
        server.Daraja.AddApp("console-key", "console-secret", "600777", "console-passkey");
        var admin = await server.NewConsoleUserAsync(a, "admin");
        var page = await chromium.NewPageAsync(server.Client().BaseAddress!, width: 1280, height: 900);
        await page.LogInAsync(server, admin);
        await page.GotoAsync("/console/settings");
        Assert.Contains("No M-Pesa account yet", await page.Locator("main").InnerTextAsync());
        await page.GetByLabel("Paybill (short code)").FillAsync("600777");
        await page.GetByLabel("Consumer key (empty: keep)").FillAsync("console-key");
        await page.GetByLabel("Consumer secret (empty: keep)").FillAsync("console-secret");
        await page.GetByLabel("Passkey (empty: keep)").FillAsync("console-passkey");
        await page.GetByLabel("Daraja address").FillAsync(server.DarajaUrl.ToString());
        await page.GetByLabel("This Lien's public address (for Daraja's callbacks)").FillAsync(server.Client().BaseAddress!.ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = "Save M-Pesa settings" }).ClickAsync();
        Assert.Contains("M-Pesa settings saved", await page.Locator("#settings-message").InnerTextAsync());
        Assert.Equal("600777", await page.Locator("#mpesa-shortcode").InnerTextAsync());
        var html = await page.ContentAsync();
        Assert.DoesNotContain("console-secret", html);
        Assert.DoesNotContain("console-passkey", html);
        await Chromium.AssertAccessibleAsync(page);

        await page.GetByRole(AriaRole.Button, new() { Name = "Register the URLs with Daraja" }).ClickAsync();
        Assert.Contains("Daraja took the validation and confirmation URLs", await page.Locator("#settings-message").InnerTextAsync());
        Assert.Equal("600777", (await a.Admin.ReadAsync("/v1/lender/mpesa")).Str("shortCode"));

        // A paybill that is not one is refused, and nothing changes.
        await page.GetByLabel("Paybill (short code)").FillAsync("12ab");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save M-Pesa settings" }).ClickAsync();
        Assert.Contains("shortCode", await page.GetByRole(AriaRole.Alert).InnerTextAsync());
        Assert.Equal("600777", (await a.Admin.ReadAsync("/v1/lender/mpesa")).Str("shortCode"));
    }
}
