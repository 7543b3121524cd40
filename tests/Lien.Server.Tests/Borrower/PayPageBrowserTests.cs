using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lien.Server.Api;
using Microsoft.Playwright;

namespace Lien.Server.Tests.Borrower;

/// <summary>
/// The borrower's pay page in a real Chromium at 360 px, with JavaScript on and off: the balance, paying through the
/// payment provider (the fixture's recorder; the money recorded through the real API), the progress, the unlock code, the
/// dispute form; axe-core on every state. (The page is the same on both databases; SQLite serves it here.)
/// </summary>
public sealed class PayPageBrowserTests(SqliteServer server, Chromium chromium) : IClassFixture<SqliteServer>, IClassFixture<Chromium>
{
    [Fact]
    public async Task PayPage_LockedPhone_ShowsWhatIsOwed_PaysByRequest_FollowsItAndGivesTheCode_Accessible()
    {
        var b = await BorrowerSetup.NewAsync(server, locked: true);
        var page = await chromium.NewPageAsync(server.Client().BaseAddress!);
        var response = await page.GotoAsync(b.PayPath);
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        var text = await page.Locator("main").InnerTextAsync();
        Assert.Contains("Jua Phones", text);
        Assert.Contains("KES 100", text);
        Assert.Contains(b.Reference, text);
        Assert.Contains("days late", text);
        await Chromium.AssertAccessibleAsync(page);

        await page.GetByLabel("M-Pesa phone number").FillAsync("0712 345 678");
        Assert.Equal("100", await page.GetByLabel("Amount (KES)").InputValueAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Send the M-Pesa request" }).ClickAsync();
        Assert.Contains("enter your M-Pesa PIN", await page.GetByRole(AriaRole.Status).InnerTextAsync());
        await Chromium.AssertAccessibleAsync(page);
        var request = Assert.Single(server.PaymentRequests.Requests, r => r.PlanId == b.PlanId);
        Assert.Equal(("+254712345678", 100_00L, "pay-page"), (request.Phone, request.Amount, request.Channel));

        await server.PaymentRequests.PayAsync(request.Id, b.Lender.Admin);
        // The page's script sees the change and reloads by itself.
        await page.GetByText("Payment received").WaitForAsync(new() { Timeout = 15_000 });
        await Chromium.AssertAccessibleAsync(page);
        var device = await b.Lender.Admin.ReadAsync($"/v1/devices/{b.DeviceId}");
        Assert.Equal("Unlocked", device.GetProperty("leaseMode").GetString());

        await page.GetByRole(AriaRole.Button, new() { Name = "Get an unlock code" }).ClickAsync();
        var code = await page.Locator(".code").InnerTextAsync();
        Assert.Matches(@"^\d{3} \d{3} \d{3}$", code);
        Assert.Contains("Type it on the lock screen", await page.GetByRole(AriaRole.Status).InnerTextAsync());
        await Chromium.AssertAccessibleAsync(page);
    }

    [Fact]
    public async Task PayPage_JavaScriptOff_ReadsAndPays_TheProgressPageRefreshesItself()
    {
        var b = await BorrowerSetup.NewAsync(server, locked: true);
        var page = await chromium.NewPageAsync(server.Client().BaseAddress!, javaScript: false);
        await page.GotoAsync(b.PayPath + "?lang=sw");
        var text = await page.Locator("main").InnerTextAsync();
        Assert.Contains("Lipia simu yako", text);
        Assert.Contains("KES 100", text);
        await page.GetByLabel("Nambari ya simu ya M-Pesa").FillAsync("+254712345678");
        await page.GetByRole(AriaRole.Button, new() { Name = "Tuma ombi la M-Pesa" }).ClickAsync();
        Assert.Contains("weka PIN yako", await page.GetByRole(AriaRole.Status).InnerTextAsync());
        Assert.Contains("http-equiv=\"refresh\"", await page.ContentAsync());
        var request = Assert.Single(server.PaymentRequests.Requests, r => r.PlanId == b.PlanId);
        await server.PaymentRequests.PayAsync(request.Id, b.Lender.Admin);
        await page.ReloadAsync();
        Assert.Contains("Malipo yamepokelewa", await page.GetByRole(AriaRole.Status).InnerTextAsync());
    }

    [Fact]
    public async Task PayPage_DisputeForm_IHavePaid_OpensADispute_Accessible()
    {
        var b = await BorrowerSetup.NewAsync(server, locked: true);
        var page = await chromium.NewPageAsync(server.Client().BaseAddress!);
        await page.GotoAsync(b.PayPath);
        await page.GetByLabel("I have paid").CheckAsync();
        await page.GetByLabel("M-Pesa transaction code").FillAsync("QFX12ABC34");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send", Exact = true }).ClickAsync();
        Assert.Contains("we are looking into it", await page.GetByRole(AriaRole.Alert).InnerTextAsync());
        await Chromium.AssertAccessibleAsync(page);
        var disputes = await b.Lender.Admin.ReadAsync($"/v1/disputes?planId={b.PlanId}");
        var dispute = Assert.Single(disputes.GetProperty("items").EnumerateArray(), d => d.GetProperty("planId").GetGuid() == b.PlanId);
        Assert.Equal("QFX12ABC34", dispute.Str("transactionReference"));
        Assert.Equal("borrower:pay-page", dispute.Str("openedBy"));
    }

    [Fact]
    public async Task PayPage_ShowsNothingTheLinkHolderShouldNotSee_AndFirstViewIsSmall()
    {
        var b = await BorrowerSetup.NewAsync(server);
        var other = await BorrowerSetup.NewAsync(server, lender: b.Lender); // the same number, another plan
        var answer = await server.Client().GetAsync(b.PayPath);
        var html = WebUtility.HtmlDecode(await answer.Content.ReadAsStringAsync());
        Assert.True((await answer.Content.ReadAsByteArrayAsync()).Length < 30 * 1024);
        Assert.DoesNotContain(b.Phone, html);
        Assert.Contains("+2547••••678", html);
        Assert.DoesNotContain(b.Imei, html);
        Assert.Contains(b.Imei[^4..], html);
        Assert.DoesNotContain(other.Reference, html);
        Assert.Equal("no-referrer", answer.Headers.GetValues("Referrer-Policy").Single());
        var csp = answer.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);

        var page = await chromium.NewPageAsync(server.Client().BaseAddress!);
        await page.GotoAsync(b.PayPath);
        Assert.Equal(0, await page.Locator("[style]").CountAsync());
        await Chromium.AssertAccessibleAsync(page);
    }

    [Fact]
    public async Task PayPage_UnknownOrMalformedToken_404ThatRevealsNothing()
    {
        var b = await BorrowerSetup.NewAsync(server);
        var client = server.Client();
        var unknown = await client.GetAsync("/p/abcdefghjkmnpqrstvwx");
        var malformed = await client.GetAsync("/p/" + new string('Z', 300));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, malformed.StatusCode);
        var text = await unknown.Content.ReadAsStringAsync();
        Assert.Equal(text, await malformed.Content.ReadAsStringAsync());
        Assert.DoesNotContain("Jua Phones", text);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(b.PayPath + "/requests/" + Guid.NewGuid())).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(b.PayPath + "/requests/not-a-guid")).StatusCode);

        var page = await chromium.NewPageAsync(client.BaseAddress!);
        await page.GotoAsync("/p/abcdefghjkmnpqrstvwx");
        await Chromium.AssertAccessibleAsync(page);
    }

    [Fact]
    public async Task PayPage_HostilePosts_ClearRefusals_NeverA500_NoRequestSent()
    {
        var b = await BorrowerSetup.NewAsync(server, locked: true);
        var client = server.Client();
        var before = server.PaymentRequests.Requests.Count;
        HttpContent[] bodies =
        [
            new StringContent(""),
            JsonContent.Create(new { phone = "+254712345678", amount = "100" }),
            new FormUrlEncodedContent([new("phone", "+254712345678"), new("amount", "100")]), // no antiforgery field
            new FormUrlEncodedContent([new("phone", "+2547\0" ), new("amount", "1e9"), new(FormProtection.FieldName, "x")]),
            new FormUrlEncodedContent([new("phone", new string('9', 100_000)), new("amount", new string('1', 100_000))]),
            new StringContent("a=%%%&&==", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"),
        ];
        foreach (var path in new[] { "/pay", "/code", "/dispute" })
            foreach (var body in bodies)
            {
                var r = await client.PostAsync(b.PayPath + path, body);
                Assert.True((int)r.StatusCode is >= 400 and < 500, $"{path}: {(int)r.StatusCode}");
            }
        Assert.Equal(before, server.PaymentRequests.Requests.Count);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/p/abcdefghjkmnpqrstvwx/pay", new StringContent(""))).StatusCode);
    }

    [Fact]
    public async Task PayPage_MoreThanTheBalance_Refused()
    {
        var b = await BorrowerSetup.NewAsync(server, locked: true);
        var page = await chromium.NewPageAsync(server.Client().BaseAddress!, javaScript: false);
        await page.GotoAsync(b.PayPath);
        await page.GetByLabel("M-Pesa phone number").FillAsync("+254712345678");
        await page.GetByLabel("Amount (KES)").FillAsync("301");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send the M-Pesa request" }).ClickAsync();
        Assert.Contains("more than the balance of KES 300", await page.GetByRole(AriaRole.Alert).InnerTextAsync());
        Assert.DoesNotContain(server.PaymentRequests.Requests, r => r.PlanId == b.PlanId);
    }

    [Fact]
    public async Task LeasePayUrl_IsThePayPage_Absolute()
    {
        var b = await BorrowerSetup.NewAsync(server);
        var lease = await b.Lender.Admin.ReadAsync($"/v1/devices/{b.DeviceId}/lease");
        var payUrl = FindPayUrl(lease);
        Assert.NotNull(payUrl);
        Assert.Equal(new Uri(server.Client().BaseAddress!, b.PayPath).ToString(), payUrl);
    }

    private static string? FindPayUrl(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().Select(p => p.Name == "payUrl" && p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : FindPayUrl(p.Value))
            .FirstOrDefault(x => x is not null),
        JsonValueKind.Array => e.EnumerateArray().Select(FindPayUrl).FirstOrDefault(x => x is not null),
        _ => null,
    };
}
