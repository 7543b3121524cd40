using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Lien.Protocol;

namespace Lien.Server.Tests;

/// <summary>The instant channel: a committed lease reaches a streaming device at once and is resent until acknowledged.</summary>
public abstract class StreamTests(LienServer server)
{
    protected LienServer Server { get; } = server;
    private DateOnly Today => Policy.LocalDate(Server.Time.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi"));

    internal static async Task<EnrollResponse> EnrollAsync(HttpClient client, string imei)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var r = await client.PostAsJsonAsync("/v1/device/enroll", DeviceApiTests.Enrollment(key, imei));
        return (await r.Json(HttpStatusCode.OK)).Deserialize<EnrollResponse>(LeaseClaims.Json)!;
    }

    internal static async Task AckAsync(HttpClient client, string token, long seq)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/device/ack") { Content = JsonContent.Create(new { seq }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Device", token);
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Stream_PaymentCommitted_LeaseArrivesAndAckIsRecorded()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Today.AddDays(-10), count: 2);
        var enrolled = await EnrollAsync(Server.Client(), device.Str("imei"));
        Assert.Equal(LeaseMode.Locked, Api.VerifiedClaims(enrolled.Lease, enrolled.TrustKeys).Mode);
        await AckAsync(Server.Client(), enrolled.DeviceToken, enrolled.Seq);

        await using var stream = await Sse.OpenAsync(Server.Client(), enrolled.DeviceToken, enrolled.Seq);
        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        var (seq, jws) = await stream.NextLeaseAsync();
        var claims = Api.VerifiedClaims(jws, enrolled.TrustKeys);
        Assert.Equal(seq, claims.Seq);
        Assert.Equal(LeaseMode.Unlocked, claims.Mode);

        await AckAsync(Server.Client(), enrolled.DeviceToken, seq);
        var lease = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease");
        Assert.True(lease.GetProperty("applied").GetBoolean());
        Assert.Equal(seq, (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).Long("appliedSeq"));
    }

    [Fact]
    public async Task Stream_NotAcknowledged_LeaseIsWrittenAgain()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Today.AddDays(-10), count: 2);
        var enrolled = await EnrollAsync(Server.Client(), device.Str("imei"));
        await AckAsync(Server.Client(), enrolled.DeviceToken, enrolled.Seq);
        await using var stream = await Sse.OpenAsync(Server.Client(), enrolled.DeviceToken, enrolled.Seq);
        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        var first = await stream.NextLeaseAsync();

        // No ack: once the retry interval has passed on the server's clock, the same lease comes again.
        var again = Task.Run(() => stream.NextLeaseAsync());
        for (var i = 0; i < 200 && !again.IsCompleted; i++)
        {
            Server.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(again, Task.Delay(50, TestContext.Current.CancellationToken));
        }
        Assert.Equal(first, await again);
    }

    [Fact]
    public async Task Stream_ConnectsBehind_GetsTheCurrentLeaseAtOnce()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Today.AddDays(-10), count: 2);
        var enrolled = await EnrollAsync(Server.Client(), device.Str("imei"));
        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created); // while the device is offline
        await using var stream = await Sse.OpenAsync(Server.Client(), enrolled.DeviceToken, enrolled.Seq);
        var (seq, jws) = await stream.NextLeaseAsync();
        Assert.True(seq > enrolled.Seq);
        Assert.Equal(LeaseMode.Unlocked, Api.VerifiedClaims(jws, enrolled.TrustKeys).Mode);
    }

    [Fact]
    public async Task Stream_BadToken_Unauthorized()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/device/stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Device", "nope");
        if (!Server.Available) Assert.Skip("store not configured");
        await (await Server.Client().SendAsync(request)).Problem(HttpStatusCode.Unauthorized);
    }
}

public sealed class SqliteStreamTests(SqliteServer server) : StreamTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresStreamTests(PostgresServer server) : StreamTests(server), IClassFixture<PostgresServer>;
