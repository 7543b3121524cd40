using System.Net;
using Microsoft.Playwright;

namespace Lien.Server.Tests.Console;

/// <summary>The console in a real Chromium at a laptop's width: two-factor enrolment and login; axe-core on every page.</summary>
public sealed class ConsoleBrowserTests(SqliteServer server, Chromium chromium) : IClassFixture<SqliteServer>, IClassFixture<Chromium>
{
    private Task<IPage> PageAsync() => chromium.NewPageAsync(server.Client().BaseAddress!, width: 1280, height: 900);

    [Fact]
    public async Task TwoFactor_EnrolThenLogIn_WithTheAuthenticatorCode()
    {
        var a = await server.NewLenderAsync();
        var user = await server.NewConsoleUserAsync(a, "admin");
        var page = await PageAsync();
        await page.GotoAsync("/console/login");
        await Chromium.AssertAccessibleAsync(page);
        await page.LogInAsync(server, user);
        Assert.EndsWith("/console", page.Url);
        await Chromium.AssertAccessibleAsync(page);

        await page.GotoAsync("/console/account");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set up an authenticator app" }).ClickAsync();
        var key = await page.Locator("#shared-key").InnerTextAsync();
        Assert.True(await page.GetByRole(AriaRole.Img).First.IsVisibleAsync()); // the QR code
        await Chromium.AssertAccessibleAsync(page);
        await page.GetByLabel("Code from the app").FillAsync(Totp.Code(key, server.Time.GetUtcNow()));
        await page.GetByRole(AriaRole.Button, new() { Name = "Turn two-factor on" }).ClickAsync();
        Assert.Contains("Two-factor authentication is on", await page.Locator("main").InnerTextAsync());
        Assert.Equal(10, await page.Locator("#recovery-codes li").CountAsync());
        await Chromium.AssertAccessibleAsync(page);

        await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        server.Time.Advance(TimeSpan.FromSeconds(30)); // a code is accepted once: the next one
        await page.LogInAsync(server, user);
        Assert.Contains("/console/login/two-factor", page.Url);
        await Chromium.AssertAccessibleAsync(page);
        await page.GetByLabel("Code").FillAsync("000000" == Totp.Code(key, server.Time.GetUtcNow()) ? "111111" : "000000");
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        Assert.Contains("not valid", await page.Locator("main").InnerTextAsync());
        await page.GetByLabel("Code").FillAsync(Totp.Code(key, server.Time.GetUtcNow()));
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        Assert.EndsWith("/console", page.Url);
        var response = await page.GotoAsync("/console/account");
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        Assert.Contains("Two-factor authentication is on", await page.Locator("main").InnerTextAsync());
    }
}
