using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Tests.Console;

/// <summary>Console logins over HTTP: the invite link, lockout, antiforgery, the CSP, and a cookie that opens no API route.</summary>
public sealed class ConsoleLoginTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task Login_InvitedUser_ReachesTheDashboardWithStrictHeaders()
    {
        var a = await server.NewLenderAsync();
        var user = await server.NewConsoleUserAsync(a, "viewer");
        var client = await server.ConsoleAsync(user);
        var r = await client.GetAsync("/console");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            r.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("no-referrer", r.Headers.GetValues("Referrer-Policy").Single());
        var cookie = string.Join(";", (await server.Anonymous().GetAsync("/console/login")).Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task DataProtectionKeys_InTheDatabase_SealedByTheMasterKey()
    {
        var a = await server.NewLenderAsync();
        await server.ConsoleAsync(await server.NewConsoleUserAsync(a, "viewer"));
        var keys = await server.WithDbAsync(db => db.DataProtectionKeys.AsNoTracking().Select(k => k.Xml).ToListAsync());
        Assert.NotEmpty(keys);
        Assert.All(keys, xml =>
        {
            Assert.Contains("<sealed", xml);
            Assert.DoesNotContain("<masterKey", xml); // the key material itself is inside the sealed blob only
        });
    }

    [Fact]
    public async Task Console_NotSignedIn_RedirectsToLogin()
    {
        var r = await server.Anonymous().GetAsync("/console/account");
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.StartsWith("/console/login", r.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConsoleCookie_OnTheApi_IsNotAnApiKey()
    {
        var a = await server.NewLenderAsync();
        var client = await server.ConsoleAsync(await server.NewConsoleUserAsync(a, "admin"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v1/devices")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a.Admin.GetAsync("/v1/devices")).StatusCode); // the API key works as before
    }

    [Fact]
    public async Task Login_FiveWrongPasswords_LocksTheAccountEvenForTheRightOne()
    {
        var a = await server.NewLenderAsync();
        var user = await server.NewConsoleUserAsync(a, "operator");
        var client = server.Anonymous();
        var page = await client.GetStringAsync("/console/login");
        for (var i = 0; i < 5; i++)
            await client.PostAsync("/console/login", ConsoleLogins.Form(page, new() { ["userName"] = user, ["password"] = "wrong password " + i }));
        var r = await client.PostAsync("/console/login", ConsoleLogins.Form(page, new() { ["userName"] = user, ["password"] = ConsoleLogins.Password }));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains("locked", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Login_PostedWithoutItsAntiforgeryToken_IsRefused()
    {
        var a = await server.NewLenderAsync();
        var user = await server.NewConsoleUserAsync(a, "admin");
        var client = server.Anonymous();
        var page = await client.GetStringAsync("/console/login");
        var r = await client.PostAsync("/console/login", ConsoleLogins.Form(page, new() { ["userName"] = user, ["password"] = ConsoleLogins.Password }, withToken: false));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
    }

    [Fact]
    public async Task Invite_LinkUsedTwice_SecondUseRefused()
    {
        var a = await server.NewLenderAsync();
        var r = await a.Admin.PostAsJsonAsync("/v1/console/users", new { userName = "twice-" + Guid.NewGuid().ToString("N")[..8], role = "viewer" });
        var invite = new Uri((await r.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("inviteUrl").GetString()!);
        var client = server.Anonymous();
        var page = await client.GetStringAsync(invite.PathAndQuery);
        Dictionary<string, string> Fields() => new() { ["user"] = ConsoleLogins.Hidden(page, "user"), ["token"] = ConsoleLogins.Hidden(page, "token"),
            ["password"] = "a first long password", ["confirm"] = "a first long password" };
        Assert.Contains("Your password is set", await (await client.PostAsync("/console/invite", ConsoleLogins.Form(page, Fields()))).Content.ReadAsStringAsync());
        Assert.Contains("used already", await (await client.PostAsync("/console/invite", ConsoleLogins.Form(page, Fields()))).Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("", "viewer")]
    [InlineData("bad name", "viewer")]
    [InlineData("ok-name", "superuser")]
    public async Task InviteApi_BadInput_IsAProblemNotA500(string userName, string role)
    {
        var a = await server.NewLenderAsync();
        var r = await a.Admin.PostAsJsonAsync("/v1/console/users", new { userName, role });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var viewer = await a.KeyAsync("viewer", server);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/v1/console/users", new { userName = "x1", role = "admin" })).StatusCode);
    }
}
