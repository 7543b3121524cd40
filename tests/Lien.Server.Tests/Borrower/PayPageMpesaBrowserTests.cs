using System.Net;
using Lien.Server.Mpesa;
using Lien.Server.Tests.Mpesa;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;

namespace Lien.Server.Tests.Borrower;

/// <summary>
/// The pay page's "pay now" end to end through the real M-Pesa client: Chromium at 360 px presses pay, Lien sends an STK
/// push to the Daraja stand-in, the stand-in calls back with the receipt, the ledger records it, the locked phone is
/// unlocked, and the page — following the request by itself — says so and gives the unlock code.
/// </summary>
public sealed class PayPageMpesaBrowserTests(SqliteMpesaServer server, Chromium chromium) : IClassFixture<SqliteMpesaServer>, IClassFixture<Chromium>
{
    [Fact]
    public async Task PayPage_PayNow_StkPushThroughTheStandIn_CallbackUnlocksThePhone_PageShowsItAndTheCode()
    {
        var (lender, _) = await server.NewMpesaLenderAsync("Jua Phones");
        var b = await BorrowerSetup.NewAsync(server, locked: true, lender: lender);
        var page = await chromium.NewPageAsync(server.Client().BaseAddress!);
        await page.GotoAsync(b.PayPath);
        await page.GetByLabel("M-Pesa phone number").FillAsync("0712 345 678");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send the M-Pesa request" }).ClickAsync();
        Assert.Contains("enter your M-Pesa PIN", await page.GetByRole(AriaRole.Status).InnerTextAsync());

        var request = await server.WithDbAsync(db => db.Set<MpesaPaymentRequest>().AsNoTracking().SingleAsync(r => r.PlanId == b.PlanId));
        Assert.Equal((100_00L, "pay-page"), (request.Amount, request.Channel));
        Assert.Equal(200, await server.CallbackAsync(request.CheckoutRequestId)); // the borrower entered the PIN

        await page.GetByText("Payment received").WaitForAsync(new() { Timeout = 15_000 });
        await Chromium.AssertAccessibleAsync(page);
        var payment = Assert.Single(await server.WithDbAsync(db => db.Payments.AsNoTracking().Where(p => p.PlanId == b.PlanId).ToListAsync()));
        Assert.Equal(("mpesa", 100_00L), (payment.Provider, payment.Amount));
        Assert.Equal("Unlocked", (await b.Lender.Admin.ReadAsync($"/v1/devices/{b.DeviceId}")).Str("leaseMode"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Get an unlock code" }).ClickAsync();
        Assert.Matches(@"^\d{3} \d{3} \d{3}$", await page.Locator(".code").InnerTextAsync());
        Assert.Equal(HttpStatusCode.OK, (await server.Client().GetAsync(b.PayPath)).StatusCode);
    }
}
