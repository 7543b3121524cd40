using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Lien.Protocol;

namespace Lien.Server.Tests.DeviceApi;

/// <summary>A server with small limits, so each trips in a few requests.</summary>
public sealed class RateLimitedServer() : LienServer(Store.Sqlite)
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Lien:RateLimits:DevicePerDevice:Limit", "5"), new("Lien:RateLimits:DevicePerDevice:Window", "00:10:00"),
        new("Lien:RateLimits:EnrollPerImei:Limit", "3"), new("Lien:RateLimits:EnrollPerAddress:Limit", "6"),
        new("Lien:RateLimits:RenewPerDevice:Limit", "2"), new("Lien:RateLimits:ChallengePerAddress:Limit", "30"),
        new("Lien:RateLimits:PublicPerAddress:Limit", "4"), new("Lien:RateLimits:PublicPerAddress:Window", "01:00:00"),
    ];
}

/// <summary>
/// Rate limits on the device API (PROTOCOL §2): 429 problems with Retry-After, per device, per IMEI, per client address,
/// recovering as the server's clock moves. Each test starts two hours on, past every window, so none sees another's count.
/// </summary>
public sealed class RateLimitTests(RateLimitedServer server) : IClassFixture<RateLimitedServer>
{
    private static async Task<int> AssertTooManyAsync(HttpResponseMessage r)
    {
        var p = await r.Problem(HttpStatusCode.TooManyRequests);
        Assert.Equal("https://lien.dev/problems/rate-limited", p.Str("type"));
        Assert.Equal(429, p.GetProperty("status").GetInt32());
        var seconds = (int)r.Headers.RetryAfter!.Delta!.Value.TotalSeconds;
        Assert.Contains($"{seconds} s", p.Str("detail"));
        return seconds;
    }

    [Fact]
    public async Task PublicLookups_PastTheLimit_429ForTheApiAndThePagesTogether_UntilTheWaitHasPassed()
    {
        server.Time.Advance(TimeSpan.FromHours(2));
        var imei = LenderApi.NewImei();
        var anyone = server.Client();
        await (await anyone.GetAsync($"/v1/lien-check?imei={imei}")).Json(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, (await anyone.GetAsync($"/lien-check?imei={imei}")).StatusCode);
        await (await anyone.GetAsync($"/v1/certificates/{Guid.NewGuid()}")).Problem(HttpStatusCode.NotFound);
        await (await anyone.GetAsync("/v1/lien-check?imei=1")).Problem(HttpStatusCode.BadRequest); // a bad request counts too
        var seconds = await AssertTooManyAsync(await anyone.GetAsync($"/v1/lien-check?imei={imei}"));
        Assert.InRange(seconds, 1, 15 * 60); // one slot of four in an hour frees after 15 minutes
        await AssertTooManyAsync(await anyone.GetAsync($"/lien-check?imei={imei}"));
        await AssertTooManyAsync(await anyone.PostAsync("/v1/certificates/verify", JsonContent.Create(new { jws = "a.b.c" })));
        server.Time.Advance(TimeSpan.FromSeconds(seconds));
        await (await anyone.GetAsync($"/v1/lien-check?imei={imei}")).Json(HttpStatusCode.OK);
    }

    [Fact]
    public async Task DeviceEndpoints_PastTheLimit_429UntilTheWaitHasPassed()
    {
        server.Time.Advance(TimeSpan.FromHours(2));
        var a = await server.NewLenderAsync();
        var enrolled = await server.Client().EnrollAsync((await a.Admin.RegisterAsync()).Str("imei"));
        var other = await server.Client().EnrollAsync((await a.Admin.RegisterAsync()).Str("imei"));
        // Check-ins, acks and stream connections count together.
        for (var i = 0; i < 3; i++) await (await server.Client().CheckInAsync(enrolled.DeviceToken, 0)).Json(HttpStatusCode.OK);
        await server.Client().AckAsync(enrolled.DeviceToken, enrolled.Seq);
        await (await Sse.OpenAsync(server.Client(), enrolled.DeviceToken, enrolled.Seq)).DisposeAsync();
        var wait = await AssertTooManyAsync(await server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq));
        Assert.Equal(120, wait); // 5 in 10 minutes: one every 2 minutes once the burst is spent
        await (await server.Client().CheckInAsync(other.DeviceToken, 0)).Json(HttpStatusCode.OK);
        // A forged token naming the device spends nothing of its allowance (and is a 401, not a 429).
        await (await server.Client().CheckInAsync(enrolled.DeviceToken[..^2] + "AA", 0)).Problem(HttpStatusCode.Unauthorized);

        server.Time.Advance(TimeSpan.FromSeconds(wait - 1));
        await AssertTooManyAsync(await server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq));
        server.Time.Advance(TimeSpan.FromSeconds(1));
        await (await server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq)).Json(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Enroll_PerImei_429AfterTheLimitThenRecovers()
    {
        server.Time.Advance(TimeSpan.FromHours(2));
        var a = await server.NewLenderAsync();
        var imei = (await a.Admin.RegisterAsync()).Str("imei");
        for (var i = 0; i < 3; i++) await server.Client().EnrollAsync(imei);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var wait = await AssertTooManyAsync(await server.Client().PostAsJsonAsync("/v1/device/enroll", await server.Client().EnrollmentAsync(key, [imei])));
        Assert.Equal(20 * 60, wait);
        await server.Client().EnrollAsync((await a.Admin.RegisterAsync()).Str("imei")); // another IMEI is not held up
        server.Time.Advance(TimeSpan.FromSeconds(wait));
        await server.Client().EnrollAsync(key, imei);
    }

    [Fact]
    public async Task Enroll_PerClientAddress_429AfterTheLimitThenRecovers()
    {
        server.Time.Advance(TimeSpan.FromHours(2));
        var a = await server.NewLenderAsync();
        for (var i = 0; i < 6; i++) await server.Client().EnrollAsync((await a.Admin.RegisterAsync()).Str("imei"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var imei = (await a.Admin.RegisterAsync()).Str("imei");
        var wait = await AssertTooManyAsync(await server.Client().PostAsJsonAsync("/v1/device/enroll", await server.Client().EnrollmentAsync(key, [imei])));
        Assert.Equal(10 * 60, wait);
        server.Time.Advance(TimeSpan.FromSeconds(wait));
        await server.Client().EnrollAsync(key, imei);
    }

    [Fact]
    public async Task Challenge_PerClientAddress_429AfterTheLimitThenRecovers()
    {
        server.Time.Advance(TimeSpan.FromHours(2));
        var issued = 0;
        HttpResponseMessage r;
        while ((r = await server.Client().PostAsJsonAsync("/v1/device/enroll/challenge", new { })).StatusCode == HttpStatusCode.OK) issued++;
        Assert.Equal(30, issued);
        var wait = await AssertTooManyAsync(r);
        server.Time.Advance(TimeSpan.FromSeconds(wait));
        await server.Client().ChallengeAsync();
    }

    [Fact]
    public async Task Renew_PerDevice_429AfterTheLimitThenRecovers()
    {
        server.Time.Advance(TimeSpan.FromHours(2));
        var a = await server.NewLenderAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var enrolled = await server.Client().EnrollAsync(key, (await a.Admin.RegisterAsync()).Str("imei"));
        RenewRequest Signed() => TokenRenewal.Sign(enrolled.DeviceId, key, server.Time.GetUtcNow().ToUnixTimeSeconds());
        for (var i = 0; i < 2; i++) await (await server.Client().PostAsJsonAsync("/v1/device/renew", Signed())).Json(HttpStatusCode.OK);
        var wait = await AssertTooManyAsync(await server.Client().PostAsJsonAsync("/v1/device/renew", Signed()));
        Assert.Equal(30 * 60, wait);
        server.Time.Advance(TimeSpan.FromSeconds(wait));
        await (await server.Client().PostAsJsonAsync("/v1/device/renew", Signed())).Json(HttpStatusCode.OK);
    }
}
