using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Tests;

/// <summary>Lenders and their API keys: each lender sees and changes only its own records, and a key does only what its role allows. Through real HTTP, on SQLite and on PostgreSQL (see the derived classes).</summary>
public abstract class LenderTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    [Fact]
    public async Task Devices_TenantIsolation_OtherLenderSeesNothingAndChangesNothing()
    {
        var a = await Server.NewLenderAsync("Lender A");
        var b = await Server.NewLenderAsync("Lender B");
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(10));
        var payment = await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);

        foreach (var url in new[]
                 {
                     $"/v1/devices/{device.Id()}", $"/v1/devices/{device.Id()}/lease", $"/v1/devices/{device.Id()}/leases",
                     $"/v1/plans/{plan.Id()}", $"/v1/plans/{plan.Id()}/payments", $"/v1/payments/{payment.Id()}",
                 })
            await (await b.Admin.GetAsync(url)).Problem(HttpStatusCode.NotFound);

        await (await b.Admin.PayAsync(plan.Id(), 50_00)).Problem(HttpStatusCode.UnprocessableEntity);
        await (await b.Admin.PostAsJsonAsync("/v1/payments", new { planReference = plan.Str("reference"), amount = 1, currency = "KES", provider = "x", providerTransactionId = "y" }))
            .Problem(HttpStatusCode.UnprocessableEntity);
        await (await b.Admin.PostAsJsonAsync($"/v1/plans/{plan.Id()}/cancel", new { reason = "hostile" })).Problem(HttpStatusCode.NotFound);
        await (await b.Admin.PostAsJsonAsync($"/v1/payments/{payment.Id()}/reversal", new { reason = "hostile" })).Problem(HttpStatusCode.NotFound);
        await (await b.Admin.PostAsJsonAsync("/v1/plans", new { deviceId = device.Id(), price = 200, generate = new { count = 1, frequency = "Monthly", firstDueDate = Server.Today } }))
            .Problem(HttpStatusCode.UnprocessableEntity);
        var aKeys = await a.Admin.ReadAsync("/v1/api-keys");
        await (await b.Admin.DeleteAsync($"/v1/api-keys/{aKeys[0].Str("id")}")).Problem(HttpStatusCode.NotFound);

        Assert.Empty((await b.Admin.ReadAsync("/v1/devices")).GetProperty("items").EnumerateArray());
        Assert.Empty((await b.Admin.ReadAsync("/v1/plans")).GetProperty("items").EnumerateArray());
        Assert.DoesNotContain((await b.Admin.ReadAsync("/v1/audit")).EnumerateArray(), e => e.Str("subject").Contains(device.Id().ToString(), StringComparison.Ordinal));

        // And A's records are exactly as A left them.
        var after = await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}");
        Assert.Equal(100_00, after.Long("paid"));
        Assert.Equal("Active", after.Str("lifecycle"));
        Assert.Single((await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}/payments")).EnumerateArray());
        Assert.True((await a.Admin.GetAsync($"/v1/lender")).IsSuccessStatusCode);
    }

    [Fact]
    public async Task Roles_ViewerReadsOnly_RevokedKeyRefused()
    {
        var a = await Server.NewLenderAsync();
        var viewer = await a.KeyAsync("Viewer", Server);
        var op = await a.KeyAsync("Operator", Server);
        Assert.True((await viewer.GetAsync("/v1/devices")).IsSuccessStatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/v1/devices", new { imei = LenderApi.NewImei() })).StatusCode);
        await op.RegisterAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await op.PostAsJsonAsync("/v1/api-keys", new { name = "x", role = "Admin" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await op.PatchAsJsonAsync("/v1/lender", new { name = "x" })).StatusCode);

        var keys = await a.Admin.ReadAsync("/v1/api-keys");
        var viewerId = keys.EnumerateArray().First(k => k.Str("role") == "Viewer").Str("id");
        Assert.Equal(HttpStatusCode.NoContent, (await a.Admin.DeleteAsync($"/v1/api-keys/{viewerId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await viewer.GetAsync("/v1/devices")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Server.Client("lien_ak000000000000_" + new string('0', 64)).GetAsync("/v1/devices")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Server.Client().GetAsync("/v1/devices")).StatusCode);
    }

    [Fact]
    public async Task RevokedByAnotherNode_KeyHeldAtMostTheCacheTime()
    {
        // Another node revoking writes only the database: this node stops accepting the key once its hold (5 s) ends.
        var a = await Server.NewLenderAsync();
        var viewer = await a.KeyAsync("Viewer", Server);
        Assert.True((await viewer.GetAsync("/v1/devices")).IsSuccessStatusCode);
        var viewerId = (await a.Admin.ReadAsync("/v1/api-keys")).EnumerateArray().First(k => k.Str("role") == "Viewer").Str("id");
        await Server.WithDbAsync(async db => await db.ApiKeys.Where(k => k.Id == viewerId)
            .ExecuteUpdateAsync(u => u.SetProperty(k => k.RevokedAt, Server.Time.GetUtcNow())));
        Assert.True((await viewer.GetAsync("/v1/devices")).IsSuccessStatusCode);
        Server.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.Unauthorized, (await viewer.GetAsync("/v1/devices")).StatusCode);
    }
}

public sealed class SqliteLenderTests(SqliteServer server) : LenderTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresLenderTests(PostgresServer server) : LenderTests(server), IClassFixture<PostgresServer>;
