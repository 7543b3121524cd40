using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lien.Protocol;

namespace Lien.Server.Tests;

/// <summary>Leases: every change is a new lease whose seq grows and whose signature verifies with the lender's published keys. Through real HTTP, on SQLite and on PostgreSQL (see the derived classes).</summary>
public abstract class LeaseTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    [Fact]
    public async Task Leases_EveryChange_SeqStrictlyIncreasesAndVerifiesWithPublishedKey()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(2), count: 2);
        await Server.WalkUntilLockedAsync(device.Id()); // past due + grace, a lock warning, then the lock
        Assert.Equal("Locked", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).Str("mode"));
        var pay = await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        Assert.Equal("Unlocked", pay.Str("leaseMode"));
        await (await a.Admin.PostAsJsonAsync("/v1/lender/keys/rotate", new { })).Json(HttpStatusCode.OK);
        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);

        var history = (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/leases")).EnumerateArray().Reverse().ToList();
        Assert.Equal(Enumerable.Range(1, history.Count).Select(i => (long)i), history.Select(l => l.Long("seq")));
        Assert.Equal("Locked", history.Single(l => l.Str("mode") == "Locked").Str("mode"));
        Assert.Equal(["Locked", "Unlocked", "Released"], history.SkipWhile(l => l.Str("mode") != "Locked").Select(l => l.Str("mode")));
        Assert.All(history.TakeWhile(l => l.Str("mode") != "Locked"), l => Assert.Equal("Unlocked", l.Str("mode"))); // reminders and warnings first

        var keys = (await Server.Client().GetFromJsonAsync<JsonElement>($"/v1/lenders/{a.LenderId}/keys", LeaseClaims.Json)).GetProperty("keys")
            .Deserialize<List<TrustKey>>(LeaseClaims.Json)!;
        Assert.Equal(2, keys.Count); // the rotated-out key stays published
        long lastSeq = 0;
        foreach (var lease in history)
        {
            var jws = lease.Str("jws");
            var r = Jws.Verify(jws, kid => keys.FirstOrDefault(k => k.Kid == kid)?.ToECDsa(), LeaseClaims.MediaType);
            Assert.True(r.Valid, r.Reason);
            var claims = JsonSerializer.Deserialize<LeaseClaims>(r.Payload, LeaseClaims.Json)!;
            Assert.Equal(device.Id(), claims.DeviceId);
            Assert.Equal(device.Str("imei"), claims.Imeis[0]);
            Assert.True(claims.Seq > lastSeq);
            lastSeq = claims.Seq;
            for (var i = 0; i < jws.Length; i += 3)
            {
                var tampered = jws[..i] + (jws[i] == 'x' ? 'y' : 'x') + jws[(i + 1)..];
                Assert.False(Jws.Verify(tampered, kid => keys.FirstOrDefault(k => k.Kid == kid)?.ToECDsa(), LeaseClaims.MediaType).Valid);
            }
        }
        Assert.NotEqual(history[0].Str("kid"), history[^1].Str("kid"));
    }
}

public sealed class SqliteLeaseTests(SqliteServer server) : LeaseTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresLeaseTests(PostgresServer server) : LeaseTests(server), IClassFixture<PostgresServer>;
