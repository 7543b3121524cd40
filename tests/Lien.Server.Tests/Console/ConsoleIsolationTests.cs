using System.Net;
using Lien.Server.Api;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lien.Server.Tests.Console;

/// <summary>No console page shows or changes another lender's data, direct URLs included; a viewer acts on nothing; hostile input is never a 500.</summary>
public sealed class ConsoleIsolationTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task LenderBUser_LenderADevice_NotFoundEverywhere()
    {
        var a = await server.NewLenderAsync(name: "Lender A");
        var device = await a.Admin.RegisterAsync(LenderApi.NewImei());
        var plan = await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(10));
        var b = await server.NewLenderAsync(name: "Lender B");
        var userB = await server.ConsoleAsync(await server.NewConsoleUserAsync(b, "admin"));

        Assert.Equal(HttpStatusCode.NotFound, (await userB.GetAsync($"/console/devices/{device.Id()}")).StatusCode);
        var list = await userB.GetStringAsync($"/console/devices?q={device.Str("imei")}");
        Assert.DoesNotContain(device.Str("imei"), list.Replace($"value=\"{device.Str("imei")}\"", "", StringComparison.Ordinal));
        Assert.Contains("<span id=\"device-total\">0</span>", list);
        Assert.DoesNotContain(plan.Str("reference"), await userB.GetStringAsync($"/console/devices?q={plan.Str("reference")}").ContinueWith(t => t.Result.Replace($"value=\"{plan.Str("reference")}\"", "", StringComparison.Ordinal)));
        var dashboard = await userB.GetStringAsync("/console");
        Assert.DoesNotContain("Lender A", dashboard);

        // An action posted with B's own valid token on A's device changes nothing.
        var own = await userB.GetStringAsync("/console/devices");
        var r = await userB.PostAsync($"/console/devices/{device.Id()}?handler=Lock", ConsoleLogins.Form(own, new() { ["reason"] = "not mine" }));
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal("Unlocked", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).Str("mode"));
    }

    [Fact]
    public async Task Viewer_CannotAct_ThePageOffersNothingAndAPostIsRefused()
    {
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync(LenderApi.NewImei());
        await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(10));
        var viewer = await server.ConsoleAsync(await server.NewConsoleUserAsync(a, "viewer"));
        var page = await viewer.GetStringAsync($"/console/devices/{device.Id()}");
        Assert.DoesNotContain("handler=", page);
        var before = (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).Long("seq");
        foreach (var handler in new[] { "Promise", "Lock", "Unlock", "Release", "Code", "OpenDispute", "Payment" })
        {
            var r = await viewer.PostAsync($"/console/devices/{device.Id()}?handler={handler}",
                ConsoleLogins.Form(page, new() { ["reason"] = "r", ["until"] = server.Today.AddDays(1).ToString("yyyy-MM-dd"), ["hours"] = "2", ["days"] = "1",
                    ["amount"] = "100", ["receipt"] = "X1", ["step"] = "record" }));
            Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
            Assert.StartsWith("/console/denied", r.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }
        Assert.Equal(before, (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).Long("seq"));
        Assert.Equal(HttpStatusCode.Redirect, (await viewer.GetAsync("/console/users")).StatusCode);

        var collections = await server.ConsoleAsync(await server.NewConsoleUserAsync(a, "collections"));
        var cpage = await collections.GetStringAsync($"/console/devices/{device.Id()}");
        Assert.Contains("Record promise", cpage);
        Assert.DoesNotContain("Lock now", cpage);
        var lockTry = await collections.PostAsync($"/console/devices/{device.Id()}?handler=Lock", ConsoleLogins.Form(cpage, new() { ["reason"] = "r" }));
        Assert.StartsWith("/console/denied", lockTry.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/console/devices?q=%00")]
    [InlineData("/console/devices?q=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("/console/devices?state=Exploded")]
    [InlineData("/console/devices?dpd=-5")]
    [InlineData("/console/devices?dpd=99999999999")]
    [InlineData("/console/devices?pg=0")]
    [InlineData("/console/devices?pg=abc&q='%20OR%201=1--")]
    [InlineData("/console/devices/00000000-0000-0000-0000-000000000000")]
    [InlineData("/console/devices/not-a-guid")]
    [InlineData("/console/login?returnUrl=https://evil.example")]
    [InlineData("/console/invite?user=%00&token=%01")]
    public async Task HostileQuery_IsNeverA500(string url)
    {
        var a = await server.NewLenderAsync();
        var admin = await server.ConsoleAsync(await server.NewConsoleUserAsync(a, "admin"));
        var r = await admin.GetAsync(url);
        Assert.True((int)r.StatusCode < 500, $"{url}: {(int)r.StatusCode}");
    }

    [Fact]
    public async Task HostileForms_OnTheDevicePage_AreProblemsNot500s()
    {
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync(LenderApi.NewImei());
        await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(10));
        var admin = await server.ConsoleAsync(await server.NewConsoleUserAsync(a, "admin"));
        var page = await admin.GetStringAsync($"/console/devices/{device.Id()}");
        string[] values = ["", "\0", new string('x', 100_000), "-1", "1e309", "99999999999999999999", "2026-02-30", "<script>alert(1)</script>", "١٢٣"];
        foreach (var handler in new[] { "Promise", "Unlock", "Lock", "Code", "OpenDispute", "Payment" })
            foreach (var v in values)
            {
                var r = await admin.PostAsync($"/console/devices/{device.Id()}?handler={handler}", ConsoleLogins.Form(page, new()
                {
                    ["reason"] = v, ["until"] = v, ["hours"] = v, ["days"] = v, ["amount"] = v, ["receipt"] = v, ["step"] = "record", ["over"] = v,
                }));
                Assert.True((int)r.StatusCode < 500, $"{handler} {v[..Math.Min(v.Length, 20)]}: {(int)r.StatusCode}");
                Assert.DoesNotContain("<script>alert(1)</script>", await r.Content.ReadAsStringAsync());
            }
    }
}

/// <summary>The console's import with plan columns: each row's plan opened by PlanBook after its device is registered; a refused plan is reported on its line.</summary>
public sealed class ConsoleImportPlanTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task Import_WithPlanColumns_OpensPlans_AndReportsTheRefusedOne()
    {
        var a = await server.NewLenderAsync();
        var client = await server.ConsoleAsync(await server.NewConsoleUserAsync(a, "operator"));
        var page = await client.GetStringAsync("/console/import");
        var (one, two, three) = (LenderApi.NewImei(), LenderApi.NewImei(), LenderApi.NewImei());
        var due = server.Today.AddDays(10).ToString("yyyy-MM-dd");
        var csv = "imei,price,down_payment,installments,frequency,first_due,borrower_phone\n"
            + $"{one},350.00,50,3,Monthly,{due},+254712345678\n"
            + $"{two},,,,,,\n"
            + $"{three},350.00,0,3,Monthly,2020-01-01,\n";
        using var form = new MultipartFormDataContent
        {
            { new StringContent(ConsoleLogins.Hidden(page, FormProtection.FieldName)), FormProtection.FieldName },
            { new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(csv)), "file", "plans.csv" },
        };
        var posted = await client.PostAsync("/console/import", form);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, posted.StatusCode);
        var status = "";
        // The import runs in the background: its status page is read again until it says Done (as a browser's refresh would).
        for (var i = 0; i < 5000 && !status.Contains("Done:", StringComparison.Ordinal); i++)
            status = await client.GetStringAsync(posted.Headers.Location!.OriginalString);
        Assert.Contains("<span id=\"import-registered\">3</span>", status);
        Assert.Contains("<span id=\"import-refused\">1</span>", status);
        Assert.Contains("plan refused", status);
        var plans = (await a.Admin.ReadAsync("/v1/plans")).GetProperty("items").EnumerateArray().ToList();
        var plan = Assert.Single(plans);
        Assert.Equal(350_00, plan.Long("price"));
        Assert.Equal(50_00, plan.Long("downPayment"));
    }

    [Fact]
    public async Task ImportJob_TwoRunnersAtOnce_EachRowRegisteredOnce()
    {
        var a = await server.NewLenderAsync();
        var imeis = Enumerable.Range(0, 1200).Select(_ => LenderApi.NewImei()).ToList();
        Guid job;
        await using (var scope = server.Services.CreateAsyncScope())
            job = (await scope.ServiceProvider.GetRequiredService<Lien.Server.Console.DeviceImports>()
                .QueueAsync(a.LenderId, "race.csv", "imei\n" + string.Join("\n", imeis), "test", TestContext.Current.CancellationToken)).Job!.Id;
        async Task RunAsync()
        {
            await using var scope = server.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<Lien.Server.Console.DeviceImports>().RunNextAsync(TestContext.Current.CancellationToken);
        }
        await Task.WhenAll(RunAsync(), RunAsync());
        var done = await server.WithDbAsync(db => db.Set<Lien.Server.Console.ImportJob>().AsNoTracking().FirstAsync(j => j.Id == job));
        for (var i = 0; i < 5000 && done.State != Lien.Server.Console.ImportState.Done; i++) // the background runner may hold it: read until it is done
            done = await server.WithDbAsync(db => db.Set<Lien.Server.Console.ImportJob>().AsNoTracking().FirstAsync(j => j.Id == job));
        Assert.Equal((1200, 1200, 0), (done.Processed, done.Registered, done.Refused));
        Assert.Equal(1200, await server.WithDbAsync(db => db.Devices.CountAsync(d => d.LenderId == a.LenderId)));
    }
}
