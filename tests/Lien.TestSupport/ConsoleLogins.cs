using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Lien.TestSupport;

/// <summary>Console users for tests, made the way an admin makes them: invited by the lender's admin key, password set through the invite link.</summary>
public static partial class ConsoleLogins
{
    public const string Password = "correct horse battery staple";

    /// <summary>A console user of <paramref name="tenant"/> with <paramref name="role"/> and <see cref="Password"/>; answers the user name.</summary>
    public static async Task<string> NewConsoleUserAsync(this LienServer server, Tenant tenant, string role = "admin", string? name = null)
    {
        name ??= $"{role}-{Guid.NewGuid():N}"[..20];
        var r = await tenant.Admin.PostAsJsonAsync("/v1/console/users", new { userName = name, role });
        Assert.True(r.StatusCode == HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        var invite = new Uri((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("inviteUrl").GetString()!);
        var client = server.Anonymous();
        var page = await client.GetStringAsync(invite.PathAndQuery);
        var set = await client.PostAsync("/console/invite", Form(page, new()
        {
            ["user"] = Hidden(page, "user"), ["token"] = Hidden(page, "token"), ["password"] = Password, ["confirm"] = Password,
        }));
        Assert.Contains("Your password is set", await set.Content.ReadAsStringAsync());
        return name;
    }

    /// <summary>A cookie-keeping client that follows no redirects (a test sees each 302).</summary>
    public static HttpClient Anonymous(this LienServer server) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = server.Client().BaseAddress,
        };

    /// <summary>A client signed in to the console as <paramref name="user"/> (two-factor codes from <paramref name="authenticatorKey"/> at the server's time).</summary>
    public static async Task<HttpClient> ConsoleAsync(this LienServer server, string user, string? authenticatorKey = null)
    {
        var client = server.Anonymous();
        var login = await client.GetStringAsync("/console/login");
        var r = await client.PostAsync("/console/login", Form(login, new() { ["userName"] = user, ["password"] = Password }));
        Assert.True(r.StatusCode == HttpStatusCode.Redirect, await r.Content.ReadAsStringAsync());
        if (r.Headers.Location!.OriginalString.StartsWith("/console/login/two-factor", StringComparison.Ordinal))
        {
            var page = await client.GetStringAsync(r.Headers.Location.OriginalString);
            r = await client.PostAsync(r.Headers.Location.OriginalString,
                Form(page, new() { ["code"] = Totp.Code(authenticatorKey!, server.Clock.GetUtcNow()) }));
            Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        }
        return client;
    }

    /// <summary>Posts a page's form: the antiforgery token read from <paramref name="page"/> (unless <paramref name="withToken"/> is false) and the fields.</summary>
    public static FormUrlEncodedContent Form(string page, Dictionary<string, string> fields, bool withToken = true)
    {
        if (withToken) fields[Lien.Server.Api.FormProtection.FieldName] = Hidden(page, Lien.Server.Api.FormProtection.FieldName);
        return new FormUrlEncodedContent(fields);
    }

    public static string Hidden(string page, string name)
    {
        var m = Regex.Match(page, $"<input[^>]*name=\"{Regex.Escape(name)}\"[^>]*value=\"([^\"]*)\"");
        if (!m.Success) m = Regex.Match(page, $"<input[^>]*value=\"([^\"]*)\"[^>]*name=\"{Regex.Escape(name)}\"");
        Assert.True(m.Success, $"No hidden {name} on the page.");
        return WebUtility.HtmlDecode(m.Groups[1].Value);
    }

    /// <summary>Logs <paramref name="page"/> in as <paramref name="user"/> through the login form (and the code form, with <paramref name="authenticatorKey"/>).</summary>
    public static async Task LogInAsync(this IPage page, LienServer server, string user, string? authenticatorKey = null)
    {
        await page.GotoAsync("/console/login");
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        if (authenticatorKey is not null)
        {
            await page.GetByLabel("Code").FillAsync(Totp.Code(authenticatorKey, server.Clock.GetUtcNow()));
            await page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        }
    }
}

/// <summary>RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits) from a base32 key, as an authenticator app computes it: the test's own few lines.</summary>
public static class Totp
{
    public static string Code(string base32Key, DateTimeOffset at)
    {
        var key = Base32(base32Key.Replace(" ", "", StringComparison.Ordinal));
        var counter = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, at.ToUnixTimeSeconds() / 30);
        var h = HMACSHA1.HashData(key, counter);
        var o = h[19] & 0xf;
        var bin = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
        return (bin % 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
    }

    private static byte[] Base32(string s)
    {
        var bits = string.Concat(s.TrimEnd('=').ToUpperInvariant().Select(c => Convert.ToString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".IndexOf(c), 2).PadLeft(5, '0')));
        return Enumerable.Range(0, bits.Length / 8).Select(i => Convert.ToByte(bits.Substring(i * 8, 8), 2)).ToArray();
    }
}
