using System.Net;
using System.Text.Json;
using Lien.Server.Codes;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Tests.DeviceApi;

/// <summary>The wrong-code count a phone reports at check-in, as the lender sees it on the device.</summary>
public abstract class WrongCodesTests(LienServer server)
{
    private static JsonElement WrongCodes(JsonElement device) => device.GetProperty("wrongCodes");

    private static DateTimeOffset? ReportedAt(JsonElement device) =>
        WrongCodes(device).GetProperty("reportedAt") is { ValueKind: JsonValueKind.String } at ? at.GetDateTimeOffset() : null;

    private Task<DateTimeOffset?> StoredReportedAtAsync(Guid device) =>
        server.WithDbAsync(db => db.Devices.Where(d => d.Id == device).Select(d => d.WrongCodesReportedAt).SingleAsync());

    [Fact]
    public async Task CheckIn_WrongCodes_StoredWhenChangedShownWithWhenReportedClearedByEnrollment()
    {
        var a = await server.NewLenderAsync();
        var registered = await a.Admin.RegisterAsync();
        var id = registered.Id();
        var imei = registered.Str("imei");
        var enrolled = await server.Client().EnrollAsync(imei);
        var phone = server.Client();

        await (await phone.CheckInAsync(enrolled.DeviceToken, enrolled.Seq, wrongCodes: 0)).Json(HttpStatusCode.OK);
        var device = await a.Admin.ReadAsync($"/v1/devices/{id}");
        Assert.Equal(0, WrongCodes(device).GetProperty("count").GetInt32());
        Assert.Null(ReportedAt(device)); // 0 is what the enrollment left: nothing written

        server.Time.Advance(TimeSpan.FromMinutes(7));
        var first = server.Time.GetUtcNow();
        await (await phone.CheckInAsync(enrolled.DeviceToken, enrolled.Seq, wrongCodes: 3)).Json(HttpStatusCode.OK);
        device = await a.Admin.ReadAsync($"/v1/devices/{id}");
        Assert.Equal(3, WrongCodes(device).GetProperty("count").GetInt32());
        Assert.Equal(first, ReportedAt(device));

        // The same count again, or none (an agent without codes): nothing written, the time stays the first report's.
        server.Time.Advance(TimeSpan.FromHours(6));
        await (await phone.CheckInAsync(enrolled.DeviceToken, enrolled.Seq, wrongCodes: 3)).Json(HttpStatusCode.OK);
        await (await phone.CheckInAsync(enrolled.DeviceToken, enrolled.Seq)).Json(HttpStatusCode.OK);
        Assert.Equal(first, await StoredReportedAtAsync(id));

        server.Time.Advance(TimeSpan.FromMinutes(1));
        var second = server.Time.GetUtcNow();
        await (await phone.CheckInAsync(enrolled.DeviceToken, enrolled.Seq, wrongCodes: 9)).Json(HttpStatusCode.OK);
        var listed = (await a.Admin.ReadAsync($"/v1/devices?search={imei}")).GetProperty("items").EnumerateArray().Single();
        Assert.Equal(9, WrongCodes(listed).GetProperty("count").GetInt32());
        Assert.Equal(second, ReportedAt(listed));

        // Out of bounds: refused with a problem naming the field; what was stored stays.
        foreach (var bad in new[] { -1, 1_000_001 })
        {
            var problem = await (await phone.CheckInAsync(enrolled.DeviceToken, enrolled.Seq, wrongCodes: bad)).Problem(HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty("wrongCodes", out _));
        }
        Assert.Equal(9, WrongCodes(await a.Admin.ReadAsync($"/v1/devices/{id}")).GetProperty("count").GetInt32());

        // Enrolled again: a fresh code secret, counted from zero; the old enrollment's token no longer reports.
        var again = await server.Client().EnrollAsync(imei);
        device = await a.Admin.ReadAsync($"/v1/devices/{id}");
        Assert.Equal(0, WrongCodes(device).GetProperty("count").GetInt32());
        Assert.Null(ReportedAt(device));
        Assert.Equal(HttpStatusCode.Unauthorized, (await phone.CheckInAsync(enrolled.DeviceToken, enrolled.Seq, wrongCodes: 12)).StatusCode);
        await (await phone.CheckInAsync(again.DeviceToken, again.Seq, wrongCodes: 1)).Json(HttpStatusCode.OK);
        Assert.Equal(1, WrongCodes(await a.Admin.ReadAsync($"/v1/devices/{id}")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task CheckIn_WrongCodesReachTheThreshold_AuditedOncePerEnrollment()
    {
        var a = await server.NewLenderAsync();
        var registered = await a.Admin.RegisterAsync();
        var enrolled = await server.Client().EnrollAsync(registered.Str("imei"));
        var phone = server.Client();
        async Task<List<JsonElement>> AuditedAsync() =>
            (await a.Admin.ReadAsync("/v1/audit")).EnumerateArray().Where(x => x.Str("action") == "device.wrong-codes").ToList();

        // Up to the agent's free wrong codes: typos, not audited.
        await (await phone.CheckInAsync(enrolled.DeviceToken, enrolled.Seq, wrongCodes: WrongCodeReports.AuditThreshold - 1)).Json(HttpStatusCode.OK);
        Assert.Empty(await AuditedAsync());

        await (await phone.CheckInAsync(enrolled.DeviceToken, enrolled.Seq, wrongCodes: WrongCodeReports.AuditThreshold + 2)).Json(HttpStatusCode.OK);
        await (await phone.CheckInAsync(enrolled.DeviceToken, enrolled.Seq, wrongCodes: WrongCodeReports.AuditThreshold + 9)).Json(HttpStatusCode.OK);
        var audited = Assert.Single(await AuditedAsync());
        Assert.Equal($"device:{registered.Id()}", audited.Str("subject"));
        Assert.Contains($"\"wrongCodes\":{WrongCodeReports.AuditThreshold + 2}", audited.Str("data"));
        Assert.Equal(WrongCodeReports.AuditThreshold + 9, WrongCodes(await a.Admin.ReadAsync($"/v1/devices/{registered.Id()}")).GetProperty("count").GetInt32());

        // A new enrollment counts from zero, so crossing again is audited again.
        var again = await server.Client().EnrollAsync(registered.Str("imei"));
        await (await phone.CheckInAsync(again.DeviceToken, again.Seq, wrongCodes: WrongCodeReports.AuditThreshold)).Json(HttpStatusCode.OK);
        Assert.Equal(2, (await AuditedAsync()).Count);
        Assert.True((await a.Admin.ReadAsync("/v1/audit/verify")).GetProperty("intact").GetBoolean());
    }
}

public sealed class SqliteWrongCodesTests(SqliteServer server) : WrongCodesTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresWrongCodesTests(PostgresServer server) : WrongCodesTests(server), IClassFixture<PostgresServer>;
