using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Lien.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace Lien.Server.Tests;

/// <summary>The instant channel: a committed lease reaches a streaming device at once and is resent until acknowledged.</summary>
public abstract class StreamTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    // A lender, a device with a plan 10 days overdue (so Locked), enrolled; the caller decides whether it acks.
    private async Task<(Tenant Lender, JsonElement Device, JsonElement Plan, EnrollResponse Enrolled)> OverdueEnrolledAsync()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(-10), count: 2, backdated: true);
        await Server.WalkUntilLockedAsync(device.Id()); // warned first, then locked
        return (a, device, plan, await Server.Client().EnrollAsync(device.Str("imei")));
    }

    [Fact]
    public async Task Stream_PaymentCommitted_LeaseArrivesAndAckIsRecorded()
    {
        var (a, device, plan, enrolled) = await OverdueEnrolledAsync();
        Assert.Equal(LeaseMode.Locked, Phone.VerifiedClaims(enrolled.Lease, enrolled.KeySet).Mode);
        await Server.Client().AckAsync(enrolled.DeviceToken, enrolled.Seq);

        await using var stream = await Sse.OpenAsync(Server.Client(), enrolled.DeviceToken, enrolled.Seq);
        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        var (seq, jws) = await stream.NextLeaseAsync();
        var claims = Phone.VerifiedClaims(jws, enrolled.KeySet);
        Assert.Equal(seq, claims.Seq);
        Assert.Equal(LeaseMode.Unlocked, claims.Mode);

        await Server.Client().AckAsync(enrolled.DeviceToken, seq);
        var lease = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease");
        Assert.True(lease.GetProperty("applied").GetBoolean());
        Assert.Equal(seq, (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).Long("appliedSeq"));
    }

    [Fact]
    public async Task Stream_NotAcknowledged_LeaseIsWrittenAgain()
    {
        var (a, device, plan, enrolled) = await OverdueEnrolledAsync();
        await Server.Client().AckAsync(enrolled.DeviceToken, enrolled.Seq);
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
        var (a, device, plan, enrolled) = await OverdueEnrolledAsync();
        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created); // while the device is offline
        await using var stream = await Sse.OpenAsync(Server.Client(), enrolled.DeviceToken, enrolled.Seq);
        var (seq, jws) = await stream.NextLeaseAsync();
        Assert.True(seq > enrolled.Seq);
        Assert.Equal(LeaseMode.Unlocked, Phone.VerifiedClaims(jws, enrolled.KeySet).Mode);
    }

    [Fact]
    public async Task Stream_ConnectsHoldingTheCurrentLease_CountsAsAckAndNothingIsResent()
    {
        var (a, device, plan, enrolled) = await OverdueEnrolledAsync();
        // No ack after enrolling (it was lost): the stream's appliedSeq says the device holds the lease.
        await using var stream = await Sse.OpenAsync(Server.Client(), enrolled.DeviceToken, enrolled.Seq);
        Assert.Equal(enrolled.Seq, (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).Long("appliedSeq"));
        Assert.True((await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).GetProperty("applied").GetBoolean());

        // Minutes pass on the server's clock: the lease the device holds is never written again, so the first lease on
        // the stream is the one the payment causes.
        for (var i = 0; i < 30; i++)
        {
            Server.Time.Advance(TimeSpan.FromSeconds(10));
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        var (seq, jws) = await stream.NextLeaseAsync();
        Assert.Equal(enrolled.Seq + 1, seq);
        Assert.Equal(LeaseMode.Unlocked, Phone.VerifiedClaims(jws, enrolled.KeySet).Mode);
    }

    [Fact]
    public async Task Stream_Idle_PingsOnceAHeartbeatAndNothingElse()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var enrolled = await Server.Client().EnrollAsync(device.Str("imei"));
        await using var stream = await Sse.OpenAsync(Server.Client(), enrolled.DeviceToken, enrolled.Seq);

        // The server's clock moves 2 minutes in 1-second steps: the heartbeat (25 s, jittered ±20 %, the first anywhere in
        // the first interval) gives 4 to 7 pings, each on its own, and no lease (the device holds the current one).
        var lines = new List<string>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var reading = Task.Run(async () =>
        {
            try { while (true) lines.Add(await stream.NextLineAsync(cts.Token)); }
            catch (OperationCanceledException) { }
        });
        for (var i = 0; i < 120; i++)
        {
            Server.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
        await Task.Delay(200, TestContext.Current.CancellationToken);
        await cts.CancelAsync();
        await reading;
        Assert.All(lines, l => Assert.Equal(": ping", l));
        Assert.InRange(lines.Count, 4, 7);
    }

    // A lender with devices registered and enrolled (no plan); none has acknowledged its lease yet.
    protected async Task<(Tenant Lender, List<(Guid Id, EnrollResponse Enrolled)> Devices)> EnrolledDevicesAsync(int count)
    {
        var a = await Server.NewLenderAsync();
        var devices = new List<(Guid Id, EnrollResponse Enrolled)>();
        for (var i = 0; i < count; i++)
        {
            var device = await a.Admin.RegisterAsync();
            devices.Add((device.Id(), await Server.Client().EnrollAsync(device.Str("imei"))));
        }
        return (a, devices);
    }

    [Fact]
    public async Task ManyDevicesAckAtOnce_TwiceEach_EveryAckRecordedOnceAndVisibleWhenAnswered()
    {
        // Acks that arrive together are written together: each must still be answered only once it is in the database,
        // and a repeat (the same ack twice at once, on the stream and in a check-in) must change nothing.
        var (a, devices) = await EnrolledDevicesAsync(16);
        var notVisible = 0;
        await Task.WhenAll(devices.SelectMany(d => new[] { d, d }).Select(async d =>
        {
            await Server.Client().AckAsync(d.Enrolled.DeviceToken, d.Enrolled.Seq);
            if ((await a.Admin.ReadAsync($"/v1/devices/{d.Id}")).Long("appliedSeq") != d.Enrolled.Seq) Interlocked.Increment(ref notVisible);
        }));
        Assert.Equal(0, notVisible);
        foreach (var (id, enrolled) in devices)
        {
            Assert.Equal(enrolled.Seq, (await a.Admin.ReadAsync($"/v1/devices/{id}")).Long("appliedSeq"));
            Assert.True((await a.Admin.ReadAsync($"/v1/devices/{id}/lease")).GetProperty("applied").GetBoolean());
        }
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

public sealed class SqliteStreamTests(SqliteServer server) : StreamTests(server), IClassFixture<SqliteServer>
{
    [Fact]
    public async Task AcksWrittenTogether_NoneAnsweredBeforeTheWriterCommitsThem()
    {
        var (a, devices) = await EnrolledDevicesAsync(8);
        Task[] acks;
        using (await server.Services.GetRequiredService<Lien.Server.Storage.SqliteWriter>().EnterAsync(TestContext.Current.CancellationToken))
        {
            // The file is held: the acks queue and are written only once it is let go; none may be answered before.
            acks = [.. devices.Select(d => Server.Client().AckAsync(d.Enrolled.DeviceToken, d.Enrolled.Seq))];
            await Task.WhenAny(Task.WhenAll(acks), Task.Delay(500, TestContext.Current.CancellationToken));
            Assert.DoesNotContain(acks, t => t.IsCompleted);
        }
        await Task.WhenAll(acks);
        foreach (var (id, enrolled) in devices)
            Assert.Equal(enrolled.Seq, (await a.Admin.ReadAsync($"/v1/devices/{id}")).Long("appliedSeq"));
    }
}

public sealed class PostgresStreamTests(PostgresServer server) : StreamTests(server), IClassFixture<PostgresServer>;
