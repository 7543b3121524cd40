using System.Net;
using Lien.Protocol;

namespace Lien.Server.Tests;

/// <summary>
/// Two real server processes on one PostgreSQL database: a device streaming from node A is unlocked by a payment
/// posted to node B. Nothing is shared but the database.
/// </summary>
public sealed class MultiNodeTests
{
    [Fact]
    public async Task TwoNodes_PaymentOnB_UnlocksDeviceStreamingFromA()
    {
        await using var nodes = await ServerProcesses.CreateAsync();
        // No heartbeat within the test's wait: only a NOTIFY can wake node A's stream in time.
        nodes.Environment["Lien__Stream__Heartbeat"] = "00:10:00";
        var (_, nodeA) = await nodes.StartNodeAsync();
        var (_, nodeB) = await nodes.StartNodeAsync();
        var token = await nodes.CreateLenderAsync("Two Node Lender");
        var adminB = new HttpClient { BaseAddress = nodeB.BaseAddress };
        adminB.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

        var device = await adminB.RegisterAsync();
        var today = Policy.LocalDate(TimeProvider.System.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi"));
        var plan = await adminB.PlanAsync(device.Id(), today.AddDays(-10), count: 2, backdated: true);
        var enrolled = await nodeA.EnrollAsync(device.Str("imei"));
        await nodeA.AckAsync(enrolled.DeviceToken, enrolled.Seq);

        await using var stream = await Sse.OpenAsync(nodeA, enrolled.DeviceToken, enrolled.Seq);
        await (await adminB.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        var (seq, jws) = await stream.NextLeaseAsync();
        var claims = Phone.VerifiedClaims(jws, enrolled.KeySet);
        Assert.Equal(LeaseMode.Unlocked, claims.Mode);
        Assert.Equal(seq, claims.Seq);

        await nodeA.AckAsync(enrolled.DeviceToken, seq);
        Assert.Equal(seq, (await adminB.ReadAsync($"/v1/devices/{device.Id()}")).Long("appliedSeq"));
    }

    [Fact]
    public async Task TwoNodes_ReEnrollmentOnB_EndsTheEarlierStreamOnA()
    {
        await using var nodes = await ServerProcesses.CreateAsync();
        nodes.Environment["Lien__Stream__Heartbeat"] = "00:10:00"; // no pings: only the NOTIFY can end node A's stream in time
        var (_, nodeA) = await nodes.StartNodeAsync();
        var (_, nodeB) = await nodes.StartNodeAsync();
        var token = await nodes.CreateLenderAsync("Two Node Lender");
        var adminB = new HttpClient { BaseAddress = nodeB.BaseAddress };
        adminB.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var device = await adminB.RegisterAsync();
        var enrolled = await nodeA.EnrollAsync(device.Str("imei"));

        await using var stream = await Sse.OpenAsync(nodeA, enrolled.DeviceToken, enrolled.Seq);
        var again = await nodeB.EnrollAsync(device.Str("imei"));
        Assert.True(await stream.EndsAsync(), "node A kept the earlier enrollment's stream open");
        await (await nodeA.CheckInAsync(enrolled.DeviceToken, 0)).Problem(HttpStatusCode.Unauthorized);
        await (await nodeA.CheckInAsync(again.DeviceToken, 0)).Json(HttpStatusCode.OK);
    }
}
