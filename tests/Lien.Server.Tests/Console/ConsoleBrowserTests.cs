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

/// <summary>A call-centre day in Chromium: find a locked phone by IMEI, promise-to-pay, lock, take a payment — the borrower's screen following each.</summary>
public sealed class ConsoleDeviceBrowserTests(SqliteServer server, Chromium chromium) : IClassFixture<SqliteServer>, IClassFixture<Chromium>
{
    [Fact]
    public async Task DeviceActions_PromiseLockPay_TheBorrowersScreenFollows()
    {
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync(LenderApi.NewImei());
        await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(10));
        await server.WalkUntilLockedAsync(device.Id());
        var user = await server.NewConsoleUserAsync(a, "operator");

        var page = await chromium.NewPageAsync(server.Client().BaseAddress!, width: 1280, height: 900);
        await page.LogInAsync(server, user);
        await page.GotoAsync("/console");
        Assert.Equal(5, await page.Locator("svg.chart").CountAsync());
        Assert.True(await page.Locator("#chart-states rect").CountAsync() == 4);
        Assert.Equal("1", await page.Locator("[data-figure='devices.locked']").InnerTextAsync());
        await Chromium.AssertAccessibleAsync(page);

        await page.GotoAsync("/console/devices");
        await page.GetByLabel("IMEI, plan reference or the phone's last digits").FillAsync(device.Str("imei"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        Assert.True("1" == await page.Locator("#device-total").InnerTextAsync(), page.Url + await page.Locator("main").InnerTextAsync());
        await Chromium.AssertAccessibleAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = device.Str("imei") }).ClickAsync();
        Assert.Equal("LOCKED", await page.Locator("#screen-mode").InnerTextAsync());
        Assert.Contains("Lease", await page.Locator("#timeline").InnerTextAsync());
        await Chromium.AssertAccessibleAsync(page);
        var reviewBefore = await page.Locator("#next-review").InnerTextAsync();

        await page.GetByLabel("No lock before the end of").FillAsync(server.Today.AddDays(2).ToString("yyyy-MM-dd"));
        await page.Locator("#promise-reason").FillAsync("Borrower will pay on Friday");
        await page.GetByRole(AriaRole.Button, new() { Name = "Record promise" }).ClickAsync();
        Assert.Contains("Promise to pay recorded", await page.Locator("#action-message").InnerTextAsync());
        Assert.NotEqual("LOCKED", await page.Locator("#screen-mode").InnerTextAsync());
        Assert.NotEqual(reviewBefore, await page.Locator("#next-review").InnerTextAsync());
        await Chromium.AssertAccessibleAsync(page);

        // The promise's lease warns of a lock at a new instant; at that instant (before the scheduler ran) staff may lock.
        var warned = (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).GetProperty("notice").GetProperty("deadline").GetDateTimeOffset();
        server.Time.SetUtcNow(warned);
        await page.LogInAsync(server, user); // a console session lasts 8 hours
        await page.GotoAsync($"/console/devices/{device.Id()}");
        await page.Locator("#lock-reason").FillAsync("Promise withdrawn on the call");
        await page.GetByRole(AriaRole.Button, new() { Name = "Lock now" }).ClickAsync();
        Assert.True("LOCKED" == await page.Locator("#screen-mode").InnerTextAsync(), await page.Locator("main").InnerTextAsync());
        Assert.Contains("Promise withdrawn on the call", await page.Locator("#timeline").InnerTextAsync());

        await page.GetByLabel("Amount (KES)").FillAsync("1000");
        await page.GetByLabel("Receipt or transaction reference").FillAsync("RCPT-001");
        await page.GetByRole(AriaRole.Button, new() { Name = "Review payment" }).ClickAsync();
        Assert.Contains("one thousand KES", await page.Locator("#payment-words").InnerTextAsync());
        Assert.True(await page.Locator("#payment-over").IsVisibleAsync()); // 1,000 is more than the 300 owed
        await Chromium.AssertAccessibleAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm payment" }).ClickAsync();
        Assert.Contains("Tick the confirmation", await page.Locator("#action-problem").InnerTextAsync());
        await page.GetByLabel("Amount (KES)").IsHiddenAsync();

        await page.GotoAsync($"/console/devices/{device.Id()}");
        await page.GetByLabel("Amount (KES)").FillAsync("100");
        await page.GetByLabel("Receipt or transaction reference").FillAsync("RCPT-002");
        await page.GetByRole(AriaRole.Button, new() { Name = "Review payment" }).ClickAsync();
        Assert.Contains("one hundred KES", await page.Locator("#payment-words").InnerTextAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm payment" }).ClickAsync();
        Assert.Contains("Payment of KES 100", await page.Locator("#action-message").InnerTextAsync());
        Assert.NotEqual("LOCKED", await page.Locator("#screen-mode").InnerTextAsync());

        await page.Locator("#code-reason").FillAsync("Borrower has no data");
        await page.GetByRole(AriaRole.Button, new() { Name = "Issue code" }).ClickAsync();
        var text = await page.Locator("main").InnerTextAsync();
        Assert.True(await page.Locator("#offline-code").IsVisibleAsync() || text.Contains("not enrolled", StringComparison.OrdinalIgnoreCase), text);
        await Chromium.AssertAccessibleAsync(page);
    }
}

/// <summary>Import and export in Chromium: a CSV with one bad row is imported with that row reported; PAR exported as CSV parses back.</summary>
public sealed class ConsoleImportExportBrowserTests(SqliteServer server, Chromium chromium) : IClassFixture<SqliteServer>, IClassFixture<Chromium>
{
    [Fact]
    public async Task Import_OneBadRow_IsReportedAndTheRestRegistered()
    {
        var a = await server.NewLenderAsync();
        var user = await server.NewConsoleUserAsync(a, "operator");
        var page = await chromium.NewPageAsync(server.Client().BaseAddress!, width: 1280, height: 900);
        await page.LogInAsync(server, user);
        await page.GotoAsync("/console/import");
        await Chromium.AssertAccessibleAsync(page);
        var good = Enumerable.Range(0, 5).Select(_ => LenderApi.NewImei()).ToList();
        var csv = "imei,make,model\n" + string.Join("\n", good.Take(2).Select(i => $"{i},Tecno,Spark")) + "\n123456789012345,Bad,Row\n"
            + string.Join("\n", good.Skip(2).Select(i => $"{i},Tecno,Spark")) + "\n";
        await page.GetByLabel("CSV file").SetInputFilesAsync(new Microsoft.Playwright.FilePayload { Name = "phones.csv", MimeType = "text/csv", Buffer = System.Text.Encoding.UTF8.GetBytes(csv) });
        await page.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
        for (var i = 0; i < 100 && !(await page.Locator("#import-status").InnerTextAsync()).StartsWith("Done", StringComparison.Ordinal); i++)
            await page.ReloadAsync(); // the page refreshes itself every 2 s; the test need not wait for that
        Assert.StartsWith("Done", await page.Locator("#import-status").InnerTextAsync());
        Assert.Equal("5", await page.Locator("#import-registered").InnerTextAsync());
        Assert.Equal("1", await page.Locator("#import-refused").InnerTextAsync());
        Assert.Contains("123456789012345", await page.Locator("#import-errors").InnerTextAsync());
        await Chromium.AssertAccessibleAsync(page);
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#error-report").ClickAsync());
        var report = await File.ReadAllTextAsync(await download.PathAsync());
        Assert.StartsWith("line,imei,reason", report.TrimStart('\uFEFF'));
        Assert.Contains("4,123456789012345,", report);
        Assert.Equal(5, (await a.Admin.ReadAsync("/v1/devices")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task ExportPar_Csv_ParsesBackWithBomIsoDatesAndMajorUnits()
    {
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync(LenderApi.NewImei());
        await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(-40), backdated: true);
        var user = await server.NewConsoleUserAsync(a, "viewer");
        var page = await chromium.NewPageAsync(server.Client().BaseAddress!, width: 1280, height: 900);
        await page.LogInAsync(server, user);
        await page.GotoAsync("/console/reports");
        await Chromium.AssertAccessibleAsync(page);
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "par.csv" }).ClickAsync());
        var bytes = await File.ReadAllBytesAsync(await download.PathAsync());
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        using var reader = new CsvHelper.CsvReader(new StringReader(System.Text.Encoding.UTF8.GetString(bytes[3..])), System.Globalization.CultureInfo.InvariantCulture);
        var rows = reader.GetRecords<dynamic>().Cast<IDictionary<string, object>>().ToList();
        Assert.Equal(13, rows.Count);
        var last = rows[^1];
        Assert.Equal(server.Today.ToString("yyyy-MM-dd"), last["date"]);
        Assert.Equal("KES", last["currency"]);
        Assert.Equal("300.00", last["outstanding"]);
        Assert.Equal("300.00", last["at_risk_30"]);
        Assert.Equal("1.0000", last["par30"]);
        var api = (await a.Admin.ReadAsync("/v1/reports/par")).EnumerateArray().Last();
        Assert.Equal(api.GetProperty("par30").GetDecimal(), decimal.Parse((string)last["par30"], System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>An admin's settings in Chromium: the preview follows the branding typed, the logo is served by Lien, an API key is made; every other page passes axe.</summary>
public sealed class ConsoleSettingsBrowserTests(SqliteServer server, Chromium chromium) : IClassFixture<SqliteServer>, IClassFixture<Chromium>
{
    private static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    [Fact]
    public async Task Settings_PreviewLogoAndKey_AndEveryPageAccessible()
    {
        var a = await server.NewLenderAsync(name: "Mkopo Phones");
        var user = await server.NewConsoleUserAsync(a, "admin");
        var page = await chromium.NewPageAsync(server.Client().BaseAddress!, width: 1280, height: 900);
        await page.LogInAsync(server, user);
        await page.GotoAsync("/console/settings");
        await Chromium.AssertAccessibleAsync(page);

        await page.GetByLabel("Name on the lock screen").FillAsync("Mkopo Simu");
        await page.GetByLabel("USSD short code").FillAsync("*555#");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview" }).ClickAsync();
        var screen = await page.Locator("#borrower-screen").InnerTextAsync();
        Assert.Contains("Mkopo Simu", screen);
        Assert.Contains("*555#", screen);
        Assert.Equal("Mkopo Phones", (await a.Admin.ReadAsync("/v1/lender")).GetProperty("settings").Str("name")); // a preview saves nothing

        await page.GetByLabel("Logo (PNG, JPEG or WebP, at most 256 KB)").SetInputFilesAsync(new FilePayload { Name = "logo.png", MimeType = "image/png", Buffer = Png });
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload logo" }).ClickAsync();
        Assert.Contains("Logo uploaded", await page.Locator("#settings-message").InnerTextAsync());
        var logoUrl = (await a.Admin.ReadAsync("/v1/lender")).GetProperty("settings").Str("logoUrl");
        var served = await server.Client().GetAsync(new Uri(logoUrl).PathAndQuery);
        Assert.Equal("image/png", served.Content.Headers.ContentType!.MediaType);
        Assert.Equal(Png, await served.Content.ReadAsByteArrayAsync());
        Assert.True(await page.Locator("#borrower-screen img").IsVisibleAsync());

        await page.GetByLabel("Logo (PNG, JPEG or WebP, at most 256 KB)").SetInputFilesAsync(new FilePayload { Name = "logo.png", MimeType = "image/png", Buffer = "<svg onload=alert(1)>"u8.ToArray() });
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload logo" }).ClickAsync();
        Assert.Contains("must be a PNG, JPEG or WebP", await page.Locator("#settings-problem").InnerTextAsync());

        await page.GetByLabel("New key's name").FillAsync("reports bot");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create API key" }).ClickAsync();
        var token = await page.Locator("#new-token").InnerTextAsync();
        Assert.Equal(HttpStatusCode.OK, (await server.Client(token).GetAsync("/v1/reports/devices-by-state")).StatusCode);
        await Chromium.AssertAccessibleAsync(page);

        foreach (var path in new[] { "/console/users", "/console/disputes", "/console/reports", "/console/import", "/console/devices" })
        {
            var response = await page.GotoAsync(path);
            Assert.Equal(200, response!.Status);
            await Chromium.AssertAccessibleAsync(page);
        }
    }
}

/// <summary>The demo's console login opens the dashboard, its charts drawn from the demo's data.</summary>
public sealed class ConsoleDemoBrowserTests(SqliteServer server, Chromium chromium) : IClassFixture<SqliteServer>, IClassFixture<Chromium>
{
    [Fact]
    public async Task DemoLogin_Dashboard_ChartsTheDemosPortfolio()
    {
        await Lien.Server.Demo.DemoSeed.RunAsync(server.Services, TestContext.Current.CancellationToken);
        var (user, password) = await Lien.Server.Demo.DemoSeed.ConsoleLoginAsync(server.Services, TestContext.Current.CancellationToken);
        Assert.Equal((user, password), await Lien.Server.Demo.DemoSeed.ConsoleLoginAsync(server.Services, TestContext.Current.CancellationToken)); // kept across starts

        var page = await chromium.NewPageAsync(server.Client().BaseAddress!, width: 1280, height: 900);
        await page.GotoAsync("/console/login");
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        Assert.EndsWith("/console", page.Url);
        Assert.Equal(5, await page.Locator("svg.chart").CountAsync());
        Assert.True(int.Parse(await page.Locator("[data-figure='devices.locked']").InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.True(int.Parse(await page.Locator("[data-figure='devices.released']").InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.True(await page.Locator("#chart-states rect").CountAsync() == 4);
        await Chromium.AssertAccessibleAsync(page);
    }
}
