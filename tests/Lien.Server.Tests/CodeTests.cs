using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using CsCheck;
using Lien.Protocol;
using Lien.Protocol.Codes;

namespace Lien.Server.Tests;

/// <summary>Offline unlock codes issued by the server and decoded as the device would, with the secret it got at enrollment.</summary>
public abstract class CodeTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    private sealed record Enrolled(Tenant Lender, JsonElement Device, JsonElement Plan, TokenDevice TokenDevice, OfflineCodes Codes);

    private async Task<Enrolled> EnrolledDeviceAsync(int firstDueInDays = 10)
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(firstDueInDays), count: 3);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var enrolled = await Server.Client().EnrollAsync(key, device.Str("imei"));
        var codes = enrolled.Codes!;
        var secret = codes.Secret.Open(key, enrolled.DeviceId);
        Assert.Equal(16, secret.Length);
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.ThrowsAny<CryptographicException>(() => codes.Secret.Open(stranger, enrolled.DeviceId)); // sealed to the device's key only
        return new Enrolled(a, device, plan, new TokenDevice(SipHashKey.FromBytes(secret), codes.StartingCode, codes.RestrictedDigitSet), codes);
    }

    private static Task<HttpResponseMessage> IssueAsync(Tenant a, Guid device, string type, int? days = null, string reason = "borrower paid by M-Pesa, no data") =>
        a.Admin.PostAsJsonAsync($"/v1/devices/{device}/codes", new { type, days, reason });

    [Fact]
    public async Task Issue_AddTimeAfterPayment_DeviceDecodesDaysUntilNextLockInstant()
    {
        var e = await EnrolledDeviceAsync(firstDueInDays: 10);
        var code = await (await IssueAsync(e.Lender, e.Device.Id(), "AddTime")).Json(HttpStatusCode.Created);
        Assert.Equal(9, code.Str("code").Length);
        Assert.Matches("^[0-9]{3} [0-9]{3} [0-9]{3}$", code.Str("display"));
        var decoder = new TokenDecoder(e.TokenDevice, TokenDecoderState.Initial(e.Codes.Count));
        var result = decoder.Decode(code.Str("code"));
        Assert.Equal(TokenStatus.Ok, result.Status);
        Assert.Equal(TokenType.AddTime, result.Type);
        Assert.Equal(14, result.Value); // ten days to the due date, the rest of today, three days of grace
        Assert.Equal(TokenStatus.AlreadyUsed, decoder.Decode(code.Str("code")).Status);

        var audit = (await e.Lender.Admin.ReadAsync("/v1/audit")).EnumerateArray().Last(x => x.Str("action") == "code.issued");
        Assert.Equal("borrower paid by M-Pesa, no data", audit.Str("reason"));
        Assert.Contains("\"value\":14", audit.Str("data"));
        Assert.Single((await e.Lender.Admin.ReadAsync($"/v1/devices/{e.Device.Id()}/codes")).EnumerateArray());
    }

    [Fact]
    public async Task Issue_ConcurrentCodes_DistinctCountsEachAcceptedOnce()
    {
        var e = await EnrolledDeviceAsync();
        var clients = Enumerable.Range(0, 6).Select(_ => Server.Client(e.Lender.Token)).ToList();
        var responses = await Task.WhenAll(clients.Select((c, i) => c.PostAsJsonAsync($"/v1/devices/{e.Device.Id()}/codes", new { type = "AddTime", days = i + 1, reason = "call centre" })));
        var codes = await Task.WhenAll(responses.Select(r => r.Json(HttpStatusCode.Created)));
        Assert.Equal(6, codes.Select(c => c.GetProperty("count").GetInt32()).Distinct().Count());
        var decoder = new TokenDecoder(e.TokenDevice, TokenDecoderState.Initial(e.Codes.Count));
        var credited = 0;
        foreach (var c in codes.Reverse())
        {
            var r = decoder.Decode(c.Str("code"));
            Assert.Equal(TokenStatus.Ok, r.Status);
            credited += r.Value!.Value;
        }
        Assert.Equal(Enumerable.Range(1, 6).Sum(), credited);
    }

    [Fact]
    public async Task Issue_ServerIssuedCodesInAnyOrderWithLossesAndRepeats_NeverAcceptedTwiceNeverMoreDays()
    {
        var e = await EnrolledDeviceAsync();
        var issued = new List<(string Code, int Days)>();
        foreach (var days in new[] { 3, 7, 1, 30, 2, 14, 5, 9 })
            issued.Add(((await (await IssueAsync(e.Lender, e.Device.Id(), "AddTime", days)).Json(HttpStatusCode.Created)).Str("code"), days));
        var totalIssued = issued.Sum(i => i.Days);

        Gen.Int[0, issued.Count - 1].Array[0, 30].Sample(order =>
        {
            var decoder = new TokenDecoder(e.TokenDevice, TokenDecoderState.Initial(e.Codes.Count));
            var accepted = new HashSet<string>();
            var credited = 0;
            foreach (var i in order)
            {
                var r = decoder.Decode(issued[i].Code);
                if (r.Status != TokenStatus.Ok) continue;
                if (!accepted.Add(issued[i].Code)) return false; // the same code twice
                credited += r.Value!.Value;
            }
            return credited <= totalIssued && credited == accepted.Sum(c => issued.First(x => x.Code == c).Days);
        });
    }

    [Fact]
    public async Task Issue_BadRequests_ClearProblems()
    {
        var e = await EnrolledDeviceAsync();
        await (await IssueAsync(e.Lender, e.Device.Id(), "Teleport")).Problem(HttpStatusCode.BadRequest);
        await (await IssueAsync(e.Lender, e.Device.Id(), "SetTime")).Problem(HttpStatusCode.BadRequest);
        await (await IssueAsync(e.Lender, e.Device.Id(), "AddTime", 2000)).Problem(HttpStatusCode.BadRequest);
        await (await e.Lender.Admin.PostAsJsonAsync($"/v1/devices/{e.Device.Id()}/codes", new { type = "AddTime" })).Problem(HttpStatusCode.BadRequest);

        var other = await Server.NewLenderAsync();
        await (await IssueAsync(other, e.Device.Id(), "AddTime", 3)).Problem(HttpStatusCode.NotFound);
        await (await other.Admin.GetAsync($"/v1/devices/{e.Device.Id()}/codes")).Problem(HttpStatusCode.NotFound);
        var notEnrolled = await e.Lender.Admin.RegisterAsync();
        await (await IssueAsync(e.Lender, notEnrolled.Id(), "AddTime", 3)).Problem(HttpStatusCode.Conflict);
        var viewer = await e.Lender.KeyAsync("Viewer", Server);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync($"/v1/devices/{e.Device.Id()}/codes", new { type = "AddTime", days = 1, reason = "x" })).StatusCode);
    }

    [Fact]
    public async Task Issue_DisablePaygAndSetTime_DecodeAsSuch()
    {
        var e = await EnrolledDeviceAsync();
        var set = await (await IssueAsync(e.Lender, e.Device.Id(), "SetTime", 0)).Json(HttpStatusCode.Created);
        var release = await (await IssueAsync(e.Lender, e.Device.Id(), "DisablePayg")).Json(HttpStatusCode.Created);
        var decoder = new TokenDecoder(e.TokenDevice, TokenDecoderState.Initial(e.Codes.Count));
        Assert.Equal((TokenStatus.Ok, TokenType.SetTime, 0), (decoder.Decode(set.Str("code")) is var s ? (s.Status, s.Type!.Value, s.Value!.Value) : default));
        Assert.Equal(TokenType.DisablePayg, decoder.Decode(release.Str("code")).Type);
    }
}

public sealed class SqliteCodeTests(SqliteServer server) : CodeTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresCodeTests(PostgresServer server) : CodeTests(server), IClassFixture<PostgresServer>;
