using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using CsCheck;
using Lien.Protocol;
using Lien.Server.AgentApi;
using Microsoft.Extensions.DependencyInjection;

namespace Lien.Server.Tests.DeviceApi;

/// <summary>
/// Device tokens that expire and are renewed (in check-in answers, or signed by the device key), acks of seqs never
/// issued, and a re-enrollment ending the earlier enrollment's stream. PROTOCOL §2 and §4.
/// </summary>
public abstract class DeviceTokenTests(LienServer server)
{
    protected LienServer Server { get; } = server;
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(30);

    private async Task<(Tenant Lender, JsonElement Device, EnrollResponse Enrolled)> EnrolledAsync(ECDsa key)
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        return (a, device, await Server.Client().EnrollAsync(key, device.Str("imei")));
    }

    private long Now => Server.Time.GetUtcNow().ToUnixTimeSeconds();

    private Task<HttpResponseMessage> RenewAsync(RenewRequest request) => Server.Client().PostAsJsonAsync("/v1/device/renew", request);

    [Fact]
    public async Task CheckIn_TokenPastItsExpiry_ExpiredProblem_RenewalSignedByTheDeviceKeyGivesAWorkingToken()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, _, enrolled) = await EnrolledAsync(key);
        Server.Time.Advance(Lifetime - TimeSpan.FromSeconds(1));
        await (await Server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq)).Json(HttpStatusCode.OK);
        Server.Time.Advance(TimeSpan.FromSeconds(1));

        var expired = await (await Server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq)).Problem(HttpStatusCode.Unauthorized);
        Assert.Equal("https://lien.dev/problems/device-token-expired", expired.Str("type"));
        var stream = new HttpRequestMessage(HttpMethod.Get, "/v1/device/stream");
        stream.Headers.Authorization = new AuthenticationHeaderValue("Device", enrolled.DeviceToken);
        Assert.Equal("https://lien.dev/problems/device-token-expired", (await (await Server.Client().SendAsync(stream)).Problem(HttpStatusCode.Unauthorized)).Str("type"));

        var renewed = (await (await RenewAsync(TokenRenewal.Sign(enrolled.DeviceId, key, Now))).Json(HttpStatusCode.OK)).Deserialize<RenewResponse>(LeaseClaims.Json)!;
        Assert.Equal(Server.Time.GetUtcNow() + Lifetime, renewed.ExpiresAt);
        await (await Server.Client().CheckInAsync(renewed.DeviceToken, enrolled.Seq)).Json(HttpStatusCode.OK);
        await Server.Client().AckAsync(renewed.DeviceToken, enrolled.Seq);
    }

    [Fact]
    public async Task Renew_WrongKeyStaleTimeOrUnknownDevice_RefusedWith401()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, device, enrolled) = await EnrolledAsync(key);
        foreach (var refused in new[]
                 {
                     TokenRenewal.Sign(enrolled.DeviceId, other, Now), // not the device's key
                     TokenRenewal.Sign(enrolled.DeviceId, key, Now - 301), TokenRenewal.Sign(enrolled.DeviceId, key, Now + 301), // stale, future
                     TokenRenewal.Sign(Guid.NewGuid(), key, Now), // no such device
                     TokenRenewal.Sign(enrolled.DeviceId, key, Now) with { SignedAt = Now + 1 }, // signed over another time
                 })
            Assert.Equal("https://lien.dev/problems/renewal-refused", (await (await RenewAsync(refused)).Problem(HttpStatusCode.Unauthorized)).Str("type"));
        await (await RenewAsync(TokenRenewal.Sign(enrolled.DeviceId, key, Now - 299))).Json(HttpStatusCode.OK);

        // After a re-enrollment (a factory reset), the earlier key renews nothing; the new one does, for the new epoch.
        using var fresh = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await Server.Client().EnrollAsync(fresh, device.Str("imei"));
        await (await RenewAsync(TokenRenewal.Sign(enrolled.DeviceId, key, Now))).Problem(HttpStatusCode.Unauthorized);
        var renewed = (await (await RenewAsync(TokenRenewal.Sign(enrolled.DeviceId, fresh, Now))).Json(HttpStatusCode.OK)).Str("deviceToken");
        await (await Server.Client().CheckInAsync(renewed, 0)).Json(HttpStatusCode.OK);
    }

    [Fact]
    public async Task CheckIn_LessThanHalfTheLifeLeft_AnswerCarriesARenewedToken()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, _, enrolled) = await EnrolledAsync(key);
        var early = await (await Server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq)).Json(HttpStatusCode.OK);
        Assert.False(early.TryGetProperty("deviceToken", out _), early.ToString());
        Server.Time.Advance(Lifetime / 2 - TimeSpan.FromSeconds(1));
        Assert.False((await (await Server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq)).Json(HttpStatusCode.OK)).TryGetProperty("deviceToken", out _));

        Server.Time.Advance(TimeSpan.FromSeconds(2));
        var answer = (await (await Server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq)).Json(HttpStatusCode.OK)).Deserialize<CheckInResponse>(LeaseClaims.Json)!;
        Assert.NotNull(answer.DeviceToken);
        Assert.NotEqual(enrolled.DeviceToken, answer.DeviceToken);
        // The renewed token outlives the old one: past the old one's expiry it still checks in.
        Server.Time.Advance(Lifetime / 2);
        await (await Server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq)).Problem(HttpStatusCode.Unauthorized);
        await (await Server.Client().CheckInAsync(answer.DeviceToken, enrolled.Seq)).Json(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AckOrAppliedSeq_AboveTheHighestIssued_ConflictAndCountedOnTheDevice()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (a, device, enrolled) = await EnrolledAsync(key);
        var c = Server.Client();
        var ack = await c.SendAsync(Request(HttpMethod.Post, "/v1/device/ack", enrolled.DeviceToken, new { seq = enrolled.Seq + 1000 }));
        Assert.Equal("https://lien.dev/problems/seq-not-issued", (await ack.Problem(HttpStatusCode.Conflict)).Str("type"));
        await (await c.CheckInAsync(enrolled.DeviceToken, enrolled.Seq + 1)).Problem(HttpStatusCode.Conflict);
        await (await c.SendAsync(Request(HttpMethod.Get, $"/v1/device/stream?appliedSeq={enrolled.Seq + 1}", enrolled.DeviceToken))).Problem(HttpStatusCode.Conflict);
        // Below any seq: malformed, not counted.
        foreach (var seq in new[] { 0, -1 })
            await (await c.SendAsync(Request(HttpMethod.Post, "/v1/device/ack", enrolled.DeviceToken, new { seq }))).Problem(HttpStatusCode.BadRequest);
        await (await c.CheckInAsync(enrolled.DeviceToken, -1)).Problem(HttpStatusCode.BadRequest);

        var view = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}");
        Assert.Equal(3, view.GetProperty("refusedAcks").GetInt32());
        Assert.Equal(0, view.Long("appliedSeq"));
        await c.AckAsync(enrolled.DeviceToken, enrolled.Seq); // the real one still goes through
        Assert.Equal(enrolled.Seq, (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).Long("appliedSeq"));
    }

    [Fact]
    public async Task ReEnrollment_EndsTheEarlierEnrollmentsStreamAtOnce()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, device, enrolled) = await EnrolledAsync(key);
        await using var stream = await Sse.OpenAsync(Server.Client(), enrolled.DeviceToken, enrolled.Seq);
        using var fresh = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var again = await Server.Client().EnrollAsync(fresh, device.Str("imei"));

        // The server's clock stands still: no heartbeat, no resend; only the re-enrollment can end the stream.
        Assert.True(await stream.EndsAsync(), "the earlier enrollment's stream stayed open");
        await (await Server.Client().SendAsync(Request(HttpMethod.Get, "/v1/device/stream", enrolled.DeviceToken))).Problem(HttpStatusCode.Unauthorized);
        await using var current = await Sse.OpenAsync(Server.Client(), again.DeviceToken, again.Seq);
    }

    [Fact]
    public async Task Read_AnyTextOrAnyOneCharacterChanged_NeverThrowsAndOnlyTheTokenHolds()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, _, enrolled) = await EnrolledAsync(key);
        var tokens = Server.Services.GetRequiredService<DeviceTokens>();
        Assert.Equal(TokenCheck.Valid, tokens.Read(enrolled.DeviceToken, out var id, out _, out _));
        Assert.Equal(enrolled.DeviceId, id);
        // Anything at all, of any length and character: malformed, never an exception.
        Gen.String[Gen.Char, 0, 300].Sample(text => Assert.Equal(TokenCheck.Malformed, tokens.Read(text, out _, out _, out _)), iter: 20_000);
        // The token with one character replaced by any other, or cut anywhere: never valid.
        Gen.Select(Gen.Int[0, enrolled.DeviceToken.Length - 1], Gen.Char).Sample((at, c) =>
        {
            var changed = enrolled.DeviceToken[..at] + c + enrolled.DeviceToken[(at + 1)..];
            Assert.True(changed == enrolled.DeviceToken || tokens.Read(changed, out _, out _, out _) == TokenCheck.Malformed, changed);
            Assert.Equal(TokenCheck.Malformed, tokens.Read(enrolled.DeviceToken.AsSpan(0, at), out _, out _, out _));
        }, iter: 20_000);
        // Every other spelling of the MAC's last character (whose 4 low bits are unused) is refused too.
        for (var c = (char)0; c < 128; c++)
            if (c != enrolled.DeviceToken[^1])
                Assert.Equal(TokenCheck.Malformed, tokens.Read(string.Concat(enrolled.DeviceToken.AsSpan(0, enrolled.DeviceToken.Length - 1), [c]), out _, out _, out _));
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string token, object? body = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Device", token);
        return request;
    }
}

public sealed class SqliteDeviceTokenTests(SqliteServer server) : DeviceTokenTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresDeviceTokenTests(PostgresServer server) : DeviceTokenTests(server), IClassFixture<PostgresServer>;
