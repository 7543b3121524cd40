using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Lien.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace Lien.Server.Tests;

/// <summary>The agent's side of the API: enrollment by IMEI and authenticated check-ins.</summary>
public abstract class DeviceApiTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    [Fact]
    public async Task Enroll_UnregisteredImei_NotFoundProblem()
    {
        await Server.NewLenderAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = await (await Server.Client().PostAsJsonAsync("/v1/device/enroll", await Server.Client().EnrollmentAsync(key, [LenderApi.NewImei()]))).Problem(HttpStatusCode.NotFound);
        Assert.Equal("IMEI not registered", p.Str("title"));
    }

    [Fact]
    public async Task Enroll_SignedWithA256BitKeyOfAnotherCurve_RefusedAsNotP256()
    {
        // A brainpoolP256r1 key is 256 bits too; it passed a key-size check and then failed sealing the code secret (500).
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.brainpoolP256r1);
        var p = await (await Server.Client().PostAsJsonAsync("/v1/device/enroll", await Server.Client().EnrollmentAsync(key, [device.Str("imei")], attest: false))).Problem(HttpStatusCode.BadRequest);
        Assert.Contains("publicKey must be a P-256 key.", p.GetProperty("errors").GetRawText());
        Assert.DoesNotContain((await a.Admin.ReadAsync("/v1/audit")).EnumerateArray(), e => e.Str("action") == "device.enrolled");
    }

    [Fact]
    public async Task Enroll_ForgedSignature_Refused()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forged = await Server.Client().EnrollmentAsync(other, [device.Str("imei")], attest: false) with { PublicKey = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()) };
        var p = await (await Server.Client().PostAsJsonAsync("/v1/device/enroll", forged)).Problem(HttpStatusCode.BadRequest);
        Assert.Contains("signature", p.GetProperty("errors").GetRawText());
    }

    [Fact]
    public async Task Enroll_ThenCheckIn_CurrentLeaseVerifiesAndAppliedSeqIsRecorded()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync(imei2: LenderApi.NewImei());
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(20));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var enrolled = await Server.Client().EnrollAsync(key, device.Str("imei"), device.Str("imei2"));
        Assert.Equal(device.Id(), enrolled.DeviceId);
        Assert.Equal(a.LenderId, enrolled.LenderId);
        var claims = Phone.VerifiedClaims(enrolled.Lease, enrolled.KeySet);
        Assert.Equal(LeaseMode.Unlocked, claims.Mode);
        Assert.Equal(enrolled.Seq, claims.Seq);
        Assert.Equal([device.Str("imei"), device.Str("imei2")], claims.Imeis);
        Assert.True(enrolled.NextCheckInAt > Server.Time.GetUtcNow());

        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        var checkin = (await (await Server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq)).Json(HttpStatusCode.OK)).Deserialize<CheckInResponse>(LeaseClaims.Json)!;
        var newer = Phone.VerifiedClaims(checkin.Lease, checkin.KeySet);
        Assert.True(newer.Seq > claims.Seq);
        await (await Server.Client().CheckInAsync(enrolled.DeviceToken, newer.Seq)).Json(HttpStatusCode.OK);
        var view = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}");
        Assert.Equal(newer.Seq, view.Long("appliedSeq"));
        Assert.NotNull(view.GetProperty("enrolledAt").GetString());
        Assert.True((await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).GetProperty("applied").GetBoolean());
    }

    [Fact]
    public async Task CheckIn_LastSeen_RecordedInBatchesAndUpdated()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var enrolled = await Server.Client().EnrollAsync(key, device.Str("imei"));
        var recorder = Server.Services.GetRequiredService<Lien.Server.AgentApi.LastSeenRecorder>();
        Assert.Equal(JsonValueKind.Null, (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).GetProperty("lastSeenAt").ValueKind);
        foreach (var hours in new[] { 0, 5 })
        {
            Server.Time.Advance(TimeSpan.FromHours(hours));
            await (await Server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq)).Json(HttpStatusCode.OK);
            await recorder.FlushAsync(CancellationToken.None);
            var seen = (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).GetProperty("lastSeenAt").GetDateTimeOffset();
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Server.Time.GetUtcNow().ToUnixTimeSeconds()), seen);
        }
    }

    [Fact]
    public async Task CheckIn_BadOrOldToken_Unauthorized()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var first = await Server.Client().EnrollAsync(key, device.Str("imei"));
        await (await Server.Client().CheckInAsync(first.DeviceToken, 0)).Json(HttpStatusCode.OK);
        await (await Server.Client().CheckInAsync(first.DeviceToken[..^2] + "AA", 0)).Problem(HttpStatusCode.Unauthorized);
        await (await Server.Client().CheckInAsync("garbage", 0)).Problem(HttpStatusCode.Unauthorized);
        await (await Server.Client().CheckInAsync($"{Guid.NewGuid():N}.1.AAAAAAAAAAAAAAAAAAAAAA", 0)).Problem(HttpStatusCode.Unauthorized);

        // A factory reset enrolls again with a new key: the old token is retired, the state is the same.
        using var fresh = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var second = await Server.Client().EnrollAsync(fresh, device.Str("imei"));
        Assert.Equal(first.DeviceId, second.DeviceId);
        Assert.Equal(first.Lease, second.Lease);
        await (await Server.Client().CheckInAsync(first.DeviceToken, 0)).Problem(HttpStatusCode.Unauthorized);
        await (await Server.Client().CheckInAsync(second.DeviceToken, 0)).Json(HttpStatusCode.OK);
        Assert.Contains((await a.Admin.ReadAsync("/v1/audit")).EnumerateArray(), e => e.Str("action") == "device.re-enrolled");
    }

    [Fact]
    public async Task Enroll_LockedThenFactoryReset_StaysLocked_ReleasedIsToldItIsFree()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(-10), count: 1);
        await Server.WalkUntilLockedAsync(device.Id());
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var enrolled = await Server.Client().EnrollAsync(key, device.Str("imei"));
        Assert.Equal(LeaseMode.Locked, Phone.VerifiedClaims(enrolled.Lease, enrolled.KeySet).Mode);
        Assert.True(enrolled.NextCheckInAt <= Server.Time.GetUtcNow().AddMinutes(15));

        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        using var afterReset = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var released = await Server.Client().EnrollAsync(afterReset, device.Str("imei"));
        Assert.Equal(LeaseMode.Released, Phone.VerifiedClaims(released.Lease, released.KeySet).Mode);
    }
}

public sealed class SqliteDeviceApiTests(SqliteServer server) : DeviceApiTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresDeviceApiTests(PostgresServer server) : DeviceApiTests(server), IClassFixture<PostgresServer>;
