using System.Buffers.Text;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lien.Server.Tests.Lenders;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Lien.Server.Tests.Certificates;

/// <summary>
/// The payoff certificate: issued at release, signed by the lender's key, fetched by the lender, verified by anyone with
/// no key (JSON, a verify endpoint, a printable page) — and by an independent JOSE library (Microsoft.IdentityModel)
/// against the lender's published JWK Set, not only by Lien's own code.
/// </summary>
public abstract class PayoffCertificateTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    private async Task<(Tenant Lender, JsonElement Device, JsonElement Plan, JsonElement Certificate)> PaidOffAsync(string lenderName = "Mkopo Phones")
    {
        var a = await Server.NewLenderAsync(name: lenderName, settlementHoldHours: 0);
        var device = await a.Admin.RegisterAsync(LenderApi.NewImei(), LenderApi.NewImei());
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(10), count: 2, each: 100_00);
        await (await a.Admin.PayAsync(plan.Id(), 200_00)).Json(HttpStatusCode.Created);
        return (a, device, plan, await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}/certificate"));
    }

    private async Task<JsonWebKeySet> JwkSetAsync(Guid lenderId) => new(await (await Server.Client().GetAsync($"/v1/lenders/{lenderId}/keys")).Content.ReadAsStringAsync());

    [Fact]
    public async Task Release_IssuesACertificate_WithTheImeisLenderPlanAndDate_AuditedOnce()
    {
        var (a, device, plan, certificate) = await PaidOffAsync();
        var claims = certificate.GetProperty("claims");
        Assert.Equal([device.Str("imei"), device.Str("imei2")], claims.GetProperty("imeis").EnumerateArray().Select(i => i.GetString()));
        Assert.Equal("Mkopo Phones", claims.Str("lenderName"));
        Assert.Equal(a.LenderId, claims.GetProperty("lenderId").GetGuid());
        Assert.Equal(plan.Str("reference"), claims.Str("planReference"));
        Assert.Equal(Server.Today, DateOnly.Parse(claims.Str("paidOffOn"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(certificate.Id(), claims.GetProperty("certificateId").GetGuid());
        Assert.Equal($"/certificates/{certificate.Id()}", certificate.Str("pageUrl"));
        var header = JsonDocument.Parse(Base64Url.DecodeFromChars(certificate.Str("jws").Split('.')[0])).RootElement;
        Assert.Equal("lien-payoff-certificate+jwt", header.Str("typ"));
        Assert.Equal(certificate.Str("kid"), header.Str("kid"));
        var issued = (await a.Admin.ReadAsync($"/v1/audit?subject=certificate:{certificate.Id()}")).EnumerateArray();
        Assert.Equal("certificate.issued", Assert.Single(issued).Str("action"));

        // Nothing of the borrower's: the certificate is shown to buyers.
        Assert.DoesNotContain("cust-1", certificate.Str("jws") + Encoding.UTF8.GetString(Base64Url.DecodeFromChars(certificate.Str("jws").Split('.')[1])));
    }

    [Fact]
    public async Task Certificate_AJoseLibraryVerifiesIt_WithThePublishedKeys_AndRefusesATamperedOne()
    {
        var (a, _, _, certificate) = await PaidOffAsync();
        var jws = certificate.Str("jws");
        var keys = (await JwkSetAsync(a.LenderId)).GetSigningKeys();
        Assert.True(await TrustKeyTests.JoseVerifiesAsync(jws, keys));
        var read = new JsonWebToken(jws);
        Assert.Equal(certificate.GetProperty("claims").Str("planReference"), read.GetPayloadValue<string>("planReference"));

        var tampered = Tamper(jws, certificate.GetProperty("claims").GetProperty("imeis")[0].GetString()!, LenderApi.NewImei());
        Assert.False(await TrustKeyTests.JoseVerifiesAsync(tampered, keys));
        // Another lender's keys do not verify it either.
        var (other, _, _, _) = await PaidOffAsync("Other Lender");
        Assert.False(await TrustKeyTests.JoseVerifiesAsync(jws, (await JwkSetAsync(other.LenderId)).GetSigningKeys()));
    }

    [Fact]
    public async Task Certificate_AnyoneVerifiesIt_WithNoKey_ByIdAndByPostingTheJws()
    {
        var (_, _, _, certificate) = await PaidOffAsync();
        var anyone = Server.Client();
        var byId = await anyone.ReadAsync($"/v1/certificates/{certificate.Id()}");
        Assert.True(byId.GetProperty("valid").GetBoolean(), byId.ToString());
        Assert.Equal(certificate.Str("jws"), byId.Str("jws"));
        Assert.Equal(certificate.GetProperty("claims").Str("planReference"), byId.GetProperty("claims").Str("planReference"));

        var posted = await (await anyone.PostAsJsonAsync("/v1/certificates/verify", new { jws = certificate.Str("jws") })).Json(HttpStatusCode.OK);
        Assert.True(posted.GetProperty("valid").GetBoolean(), posted.ToString());

        var imei = certificate.GetProperty("claims").GetProperty("imeis")[0].GetString()!;
        var tampered = await (await anyone.PostAsJsonAsync("/v1/certificates/verify", new { jws = Tamper(certificate.Str("jws"), imei, LenderApi.NewImei()) }))
            .Json(HttpStatusCode.OK);
        Assert.False(tampered.GetProperty("valid").GetBoolean());
        Assert.Contains("bad signature", tampered.Str("problem"));
        Assert.Equal(JsonValueKind.Null, tampered.GetProperty("claims").ValueKind);

        var lease = await (await anyone.PostAsJsonAsync("/v1/certificates/verify", new { jws = "not.a.certificate" })).Json(HttpStatusCode.OK);
        Assert.False(lease.GetProperty("valid").GetBoolean());
        await (await anyone.GetAsync($"/v1/certificates/{Guid.NewGuid()}")).Problem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Certificate_PrintablePage_ShowsWhatItSaysAndThatItVerifies()
    {
        var (_, device, plan, certificate) = await PaidOffAsync();
        var r = await Server.Client().GetAsync($"/certificates/{certificate.Id()}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("text/html", r.Content.Headers.ContentType?.MediaType);
        var html = await r.Content.ReadAsStringAsync();
        Assert.Contains("<strong>Verified:</strong>", html);
        Assert.Contains("Mkopo Phones", html);
        Assert.Contains(device.Str("imei"), html);
        Assert.Contains(device.Str("imei2"), html);
        Assert.Contains(plan.Str("reference"), html);
        Assert.Contains($"{Server.Today:yyyy-MM-dd}", html);
        Assert.Contains(certificate.Str("jws"), html);
        Assert.Contains("@media print", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);

        var missing = await Server.Client().GetAsync($"/certificates/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("No payoff certificate has this id", await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Certificate_OnlyItsLenderFetchesItThroughTheApi()
    {
        var (_, _, plan, _) = await PaidOffAsync();
        var other = await Server.NewLenderAsync();
        await (await other.Admin.GetAsync($"/v1/plans/{plan.Id()}/certificate")).Problem(HttpStatusCode.NotFound);
        await (await Server.Client().GetAsync($"/v1/plans/{plan.Id()}/certificate")).Problem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Certificate_ItsKeyRevoked_ReSignedByTheActiveKey_SameClaims_TheOldCopyNoLongerVerifies()
    {
        var (a, _, _, certificate) = await PaidOffAsync();
        var rotated = await (await a.Admin.PostAsJsonAsync("/v1/lender/keys/rotate", new { })).Json(HttpStatusCode.OK);
        await (await a.Admin.PostAsJsonAsync($"/v1/lender/keys/{certificate.Str("kid")}/revoke", new { })).Json(HttpStatusCode.OK);

        var now = await a.Admin.ReadAsync($"/v1/plans/{certificate.GetProperty("planId").GetGuid()}/certificate");
        Assert.Equal(certificate.Id(), now.Id());
        Assert.NotEqual(certificate.Str("kid"), now.Str("kid"));
        Assert.Contains(now.Str("kid"), rotated.GetProperty("trustKeys").EnumerateArray().Select(k => k.Str("kid")));
        Assert.Equal(certificate.GetProperty("claims").ToString(), now.GetProperty("claims").ToString());
        var check = await Server.Client().ReadAsync($"/v1/certificates/{certificate.Id()}");
        Assert.True(check.GetProperty("valid").GetBoolean(), check.ToString());
        Assert.True(await TrustKeyTests.JoseVerifiesAsync(now.Str("jws"), (await JwkSetAsync(a.LenderId)).GetSigningKeys()));
        var events = (await a.Admin.ReadAsync($"/v1/audit?subject=certificate:{certificate.Id()}")).EnumerateArray().Select(e => e.Str("action"));
        Assert.Equal(["certificate.issued", "certificate.re-signed"], events);

        // A copy printed before the revocation no longer verifies: its key is revoked.
        var old = await (await Server.Client().PostAsJsonAsync("/v1/certificates/verify", new { jws = certificate.Str("jws") })).Json(HttpStatusCode.OK);
        Assert.False(old.GetProperty("valid").GetBoolean());
        Assert.Contains("unknown signing key", old.Str("problem"));
    }

    [Fact]
    public async Task Certificate_LenderNameWithMarkup_IsEncodedOnThePage()
    {
        var (_, _, _, certificate) = await PaidOffAsync("<b>Duka</b> & Sons");
        var html = await (await Server.Client().GetAsync($"/certificates/{certificate.Id()}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("<b>Duka</b>", html);
        Assert.Contains("&lt;b&gt;Duka&lt;/b&gt; &amp; Sons", html);
    }

    // The same JWS with one value of its payload replaced and the signature kept.
    private static string Tamper(string jws, string from, string to)
    {
        var parts = jws.Split('.');
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])).Replace(from, to, StringComparison.Ordinal);
        return $"{parts[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}.{parts[2]}";
    }
}

public sealed class SqlitePayoffCertificateTests(SqliteServer server) : PayoffCertificateTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresPayoffCertificateTests(PostgresServer server) : PayoffCertificateTests(server), IClassFixture<PostgresServer>;
