using System.Net;
using Lien.Protocol;
using Lien.Server.Push;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Lien.Server.Tests;

public sealed class FcmClientTests : IAsyncLifetime
{
    private readonly FcmStandIn _fcm = new();
    public ValueTask InitializeAsync() => new(_fcm.StartAsync());
    public ValueTask DisposeAsync() => _fcm.DisposeAsync();

    private FcmClient Client(FakeTimeProvider? time = null) => new(new HttpClient(), Options.Create(new FcmOptions
    {
        ProjectId = FcmStandIn.Project,
        ClientEmail = FcmStandIn.ClientEmail,
        PrivateKeyPem = _fcm.PrivateKeyPem,
        Endpoint = _fcm.Url,
        TokenUri = new Uri(_fcm.Url, "token"),
    }), time ?? new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56)), NullLogger<FcmClient>.Instance);

    [Fact]
    public async Task Send_ValidToken_DataMessageWithHighPriorityAndOneOAuthExchange()
    {
        var client = Client();
        Assert.Equal(PushOutcome.Sent, (await client.SendCheckInAsync("device-token-1", 7, default)).Outcome);
        Assert.Equal(PushOutcome.Sent, (await client.SendCheckInAsync("device-token-2", 8, default)).Outcome);
        Assert.Empty(_fcm.Rejections);
        Assert.Equal(1, _fcm.TokenRequests); // the access token is cached
        var messages = _fcm.Messages.ToList();
        Assert.Equal(("device-token-1", "checkin", "7", "HIGH"), (messages[0].Token, messages[0].Data["lien"], messages[0].Data["seq"], messages[0].Priority));
        Assert.Equal("8", messages[1].Data["seq"]);
    }

    [Fact]
    public async Task Send_AccessTokenNearExpiry_IsRefreshed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56));
        var client = Client(time);
        await client.SendCheckInAsync("device-token", 1, default);
        time.Advance(TimeSpan.FromMinutes(59) + TimeSpan.FromSeconds(30));
        await client.SendCheckInAsync("device-token", 2, default);
        Assert.Equal(2, _fcm.TokenRequests);
    }

    [Fact]
    public async Task Send_UnregisteredOrBusy_TokenInvalidOrRetryAfter()
    {
        var client = Client();
        Assert.Equal(PushOutcome.TokenInvalid, (await client.SendCheckInAsync("unregistered-1", 1, default)).Outcome);
        var busy = await client.SendCheckInAsync("busy-1", 1, default);
        Assert.Equal(PushOutcome.RetryLater, busy.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(7), busy.RetryAfter);
    }

    [Fact]
    public async Task Send_NotConfigured_SendsNothing()
    {
        var client = new FcmClient(new HttpClient(), Options.Create(new FcmOptions()), TimeProvider.System, NullLogger<FcmClient>.Instance);
        Assert.Equal(PushOutcome.NotConfigured, (await client.SendCheckInAsync("t", 1, default)).Outcome);
        Assert.Empty(_fcm.Messages);
    }
}

/// <summary>The server with FCM configured to the stand-in: a lease the stream did not deliver is pushed.</summary>
public sealed class SqlitePushServer() : LienServer(Store.Sqlite)
{
    public FcmStandIn Fcm { get; } = new();

    public override async ValueTask InitializeAsync()
    {
        await Fcm.StartAsync();
        await base.InitializeAsync();
    }

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Lien:Fcm:ProjectId", FcmStandIn.Project),
        new("Lien:Fcm:ClientEmail", FcmStandIn.ClientEmail),
        new("Lien:Fcm:PrivateKeyPem", Fcm.PrivateKeyPem),
        new("Lien:Fcm:Endpoint", Fcm.Url.ToString()),
        new("Lien:Fcm:TokenUri", new Uri(Fcm.Url, "token").ToString()),
        new("Lien:Push:PollInterval", "1.00:00:00"), // the tests dispatch themselves, at the instants they choose
    ];

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Fcm.DisposeAsync();
    }
}

public sealed class PushTests(SqlitePushServer server) : IClassFixture<SqlitePushServer>
{
    private Task<int> DispatchAsync() => server.Services.GetRequiredService<PushDispatcher>().DispatchDueAsync(default);

    private async Task<(System.Text.Json.JsonElement Plan, EnrollResponse Device, HttpClient Admin)> LockedDeviceWithPushTokenAsync(string pushToken)
    {
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(-10), count: 2, backdated: true);
        var enrolled = await server.Client().EnrollAsync(device.Str("imei"));
        await (await server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq, pushToken)).Json(HttpStatusCode.OK);
        return (plan, enrolled, a.Admin);
    }

    [Fact]
    public async Task Payment_DeviceNotStreaming_PushedAfterTheStreamsHeadStartUntilAcked()
    {
        var pushToken = "fcm-" + Guid.NewGuid().ToString("N");
        var (plan, device, admin) = await LockedDeviceWithPushTokenAsync(pushToken);
        await (await admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);

        Assert.Equal(0, await DispatchAsync()); // the stream's head start
        server.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(1, await DispatchAsync());
        var sent = Assert.Single(server.Fcm.Messages, m => m.Token == pushToken);
        Assert.Equal("checkin", sent.Data["lien"]);
        var lease = await admin.ReadAsync($"/v1/devices/{device.DeviceId}/lease");
        Assert.Equal(lease.Long("seq").ToString(System.Globalization.CultureInfo.InvariantCulture), sent.Data["seq"]);

        // Not acknowledged within the recheck: pushed again. Acknowledged: the message is done.
        server.Time.Advance(TimeSpan.FromMinutes(1));
        await DispatchAsync();
        Assert.Equal(2, server.Fcm.Messages.Count(m => m.Token == pushToken));
        await server.Client().AckAsync(device.DeviceToken, lease.Long("seq"));
        server.Time.Advance(TimeSpan.FromMinutes(5));
        await DispatchAsync();
        Assert.Equal(2, server.Fcm.Messages.Count(m => m.Token == pushToken));
    }

    [Fact]
    public async Task Payment_UnregisteredPushToken_ForgottenNotRetried()
    {
        var (plan, device, admin) = await LockedDeviceWithPushTokenAsync("unregistered-" + Guid.NewGuid().ToString("N"));
        await (await admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        server.Time.Advance(TimeSpan.FromSeconds(3));
        await DispatchAsync();
        var stored = await server.WithDbAsync(db => Task.FromResult(db.Devices.First(d => d.Id == device.DeviceId).PushToken));
        Assert.Null(stored);
        await (await admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);
        server.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(0, await DispatchAsync());
    }
}
