using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Lien.Server.Tests;

/// <summary>Registering devices one by one and by CSV import, and listing them. Through real HTTP, on SQLite and on PostgreSQL (see the derived classes).</summary>
public abstract class DeviceTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    [Theory]
    [InlineData("490154203237517", "Luhn")]          // bad check digit
    [InlineData("49015420323751", "exactly 15")]     // 14 digits
    [InlineData("4901542032375180", "exactly 15")]   // 16 digits
    [InlineData("49015420323751X", "digits only")]   // a letter
    [InlineData("", "required")]
    public async Task Register_BadImei_ValidationProblemAndNothingStored(string imei, string message)
    {
        var a = await Server.NewLenderAsync();
        var p = await (await a.Admin.PostAsJsonAsync("/v1/devices", new { imei })).Problem(HttpStatusCode.BadRequest);
        Assert.Contains(message, p.GetProperty("errors").GetProperty("imei")[0].GetString());
        Assert.Empty((await a.Admin.ReadAsync("/v1/devices")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Register_DuplicateImei_ConflictUntilReleased()
    {
        var a = await Server.NewLenderAsync(settlementHoldHours: 0);
        var b = await Server.NewLenderAsync();
        var imei = LenderApi.NewImei();
        var second = LenderApi.NewImei();
        var device = await a.Admin.RegisterAsync(imei, second);
        Assert.Contains("already registered", (await (await a.Admin.PostAsJsonAsync("/v1/devices", new { imei })).Problem(HttpStatusCode.Conflict)).Str("detail"));
        // Across lenders too, and through either slot.
        await (await b.Admin.PostAsJsonAsync("/v1/devices", new { imei = LenderApi.NewImei(), imei2 = imei })).Problem(HttpStatusCode.Conflict);
        await (await b.Admin.PostAsJsonAsync("/v1/devices", new { imei = second })).Problem(HttpStatusCode.Conflict);
        await (await a.Admin.PostAsJsonAsync("/v1/devices", new { imei, imei2 = imei })).Problem(HttpStatusCode.BadRequest);

        // Paid off → released → the IMEI may be financed again.
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(5), count: 1);
        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        Assert.Equal("Released", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).Str("leaseMode"));
        var again = await b.Admin.RegisterAsync(imei);
        Assert.NotEqual(device.Id(), again.Id());
    }

    [Fact]
    public async Task Import_Csv_StoresValidRowsAndReportsEachBadRowWithItsLine()
    {
        var a = await Server.NewLenderAsync();
        var taken = (await a.Admin.RegisterAsync()).Str("imei");
        var good1 = LenderApi.NewImei();
        var good2 = LenderApi.NewImei();
        var csv = new StringBuilder("IMEI,imei2,serial,make,model\n")
            .Append(good1).Append(",,S1,Tecno,Spark\n")                 // line 2 ok
            .Append("490154203237517,,S2,Tecno,Spark\n")                // line 3 bad check digit
            .Append(taken).Append(",,S3,Tecno,Spark\n")                 // line 4 already registered
            .Append(good2).Append(',').Append(LenderApi.NewImei()).Append(",S4,\"Samsung, Inc\",A15\n") // line 5 ok, quoted comma
            .Append(good1).Append(",,S5,Tecno,Spark\n")                 // line 6 duplicate within the file
            .Append("12345,,S6,x,y\n");                                 // line 7 too short
        var r = await a.Admin.PostAsync("/v1/devices/import", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        var result = await r.Json(HttpStatusCode.OK);
        Assert.Equal(2, result.GetProperty("registered").GetInt32());
        Assert.Equal([2, 5], result.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("line").GetInt32()));
        var errors = result.GetProperty("errors").EnumerateArray().ToDictionary(e => e.GetProperty("line").GetInt32(), e => e.Str("reason"));
        Assert.Equal([3, 4, 6, 7], errors.Keys.Order());
        Assert.Contains("Luhn", errors[3]);
        Assert.Contains("already registered", errors[4]);
        Assert.Contains("already registered", errors[6]);
        Assert.Contains("15 digits", errors[7]);
        var listed = await a.Admin.ReadAsync($"/v1/devices?search={good2}");
        Assert.Equal("Samsung, Inc", listed.GetProperty("items")[0].Str("make"));
    }

    [Fact]
    public async Task Import_LargeFile_EveryDeviceStoredWithLeaseAndAuditChainIntact()
    {
        var a = await Server.NewLenderAsync();
        var csv = new StringBuilder("imei,serial\n");
        for (var i = 0; i < 1_234; i++) csv.Append(LenderApi.NewImei()).Append(",S").Append(i).Append('\n');
        var result = await (await a.Admin.PostAsync("/v1/devices/import", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"))).Json(HttpStatusCode.OK);
        Assert.Equal(1_234, result.GetProperty("registered").GetInt32());
        var last = result.GetProperty("devices")[1_233].Id();
        Assert.Equal(1, (await a.Admin.ReadAsync($"/v1/devices/{last}/lease")).Long("seq"));
        var check = await a.Admin.ReadAsync("/v1/audit/verify");
        Assert.True(check.GetProperty("intact").GetBoolean());
        Assert.True(check.Long("checked") >= 2 * 1_234);
    }

    [Fact]
    public async Task Import_TooManyRows_RefusedWholeNothingStored()
    {
        var a = await Server.NewLenderAsync();
        var csv = new StringBuilder("imei\n");
        for (var i = 0; i <= 10_000; i++) csv.Append(LenderApi.NewImei()).Append('\n');
        var r = await a.Admin.PostAsync("/v1/devices/import", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        await r.Problem(HttpStatusCode.RequestEntityTooLarge);
        Assert.Empty((await a.Admin.ReadAsync("/v1/devices?limit=1")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Devices_ListPagesAndSearch_CoverEveryDeviceOnce()
    {
        var a = await Server.NewLenderAsync();
        var registered = new List<Guid>();
        for (var i = 0; i < 7; i++) registered.Add((await a.Admin.RegisterAsync()).Id());
        var seen = new List<Guid>();
        string? next = null;
        do
        {
            var page = await a.Admin.ReadAsync("/v1/devices?limit=3" + (next is null ? "" : $"&after={next}"));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(d => d.Id()));
            next = page.GetProperty("next").GetString();
        } while (next is not null);
        Assert.Equal(registered.Order(), seen.Order());
        await (await a.Admin.GetAsync("/v1/devices?after=nonsense")).Problem(HttpStatusCode.BadRequest);
        await (await a.Admin.GetAsync("/v1/devices?status=sideways")).Problem(HttpStatusCode.BadRequest);
    }
}

public sealed class SqliteDeviceTests(SqliteServer server) : DeviceTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresDeviceTests(PostgresServer server) : DeviceTests(server), IClassFixture<PostgresServer>;
