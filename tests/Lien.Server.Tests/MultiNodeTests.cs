using System.Net;
using Lien.Protocol;
using Npgsql;

namespace Lien.Server.Tests;

/// <summary>
/// Two real server processes on one PostgreSQL database: a device streaming from node A is unlocked by a payment
/// posted to node B. Nothing is shared but the database.
/// </summary>
public sealed partial class MultiNodeTests
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

    [Fact]
    public async Task TwoNodes_SweepTenThousandDuePlans_EachReviewedExactlyOnceAndShared()
    {
        const int Plans = 10_000;
        await using var nodes = await ServerProcesses.CreateAsync();
        nodes.Environment["Lien__Review__Interval"] = "01:00:00"; // the node that makes the template plan never sweeps again
        var (template, node) = await nodes.StartNodeAsync();
        var token = await nodes.CreateLenderAsync("Sweep Lender");
        node.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var today = Policy.LocalDate(TimeProvider.System.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi"));
        var plan = await node.PlanAsync((await node.RegisterAsync()).Id(), today.AddDays(5));
        template.Kill(entireProcessTree: true);
        await template.WaitForExitAsync();

        // Ten thousand copies of the template's device, plan and installments (every column copied, whatever the schema
        // holds, but the keys), and every plan due a minute ago.
        await using var db = new NpgsqlConnection(nodes.Connection);
        await db.OpenAsync();
        var version = await ScalarAsync<int>(db, $"""
            CREATE TEMP TABLE copies AS SELECT n, gen_random_uuid() AS device, gen_random_uuid() AS plan FROM generate_series(1, {Plans}) n;
            INSERT INTO "Devices" SELECT (jsonb_populate_record(NULL::"Devices", to_jsonb(d) || jsonb_build_object('Id', c.device))).*
                FROM "Devices" d, copies c WHERE d."Id" = (SELECT "DeviceId" FROM "Plans" WHERE "Id" = '{plan.Id()}');
            INSERT INTO "Plans" SELECT (jsonb_populate_record(NULL::"Plans", to_jsonb(p) || jsonb_build_object('Id', c.plan, 'DeviceId', c.device, 'Reference', 'SW' || c.n, 'PayToken', NULL))).*
                FROM "Plans" p, copies c WHERE p."Id" = '{plan.Id()}';
            INSERT INTO "PlanInstallments" SELECT (jsonb_populate_record(NULL::"PlanInstallments", to_jsonb(i) || jsonb_build_object('PlanId', c.plan))).*
                FROM "PlanInstallments" i, copies c WHERE i."PlanId" = '{plan.Id()}';
            UPDATE "Plans" SET "NextReviewAt" = now() - interval '1 minute';
            SELECT "Version" FROM "Plans" WHERE "Id" = '{plan.Id()}';
            """);

        nodes.Environment["Lien__Review__Interval"] = "00:00:01";
        nodes.Environment["Logging__LogLevel__Lien.Server.Scheduling"] = "Information";
        var (a, _) = await nodes.StartNodeAsync();
        var (b, _) = await nodes.StartNodeAsync();
        var started = TimeProvider.System.GetTimestamp();
        while (await ScalarAsync<long>(db, """SELECT count(*) FROM "Plans" WHERE "NextReviewAt" <= now() - interval '30 seconds'""") > 0)
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(5), "the sweep did not finish in five minutes");
            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        // Exactly once: a review raises the plan's version by one, and a second review of a plan would raise it again.
        Assert.Equal(Plans + 1, await ScalarAsync<long>(db, $"""SELECT count(*) FROM "Plans" WHERE "Version" = {version + 1}"""));
        var shares = new List<int>();
        foreach (var process in new[] { a, b })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            var log = await process.StandardOutput.ReadToEndAsync();
            shares.Add(ReviewedLine().Matches(log).Sum(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
        }
        Assert.Equal(Plans + 1, shares.Sum()); // no plan counted by both nodes
        Assert.All(shares, share => Assert.True(share > 0, $"one node reviewed nothing: {string.Join(" / ", shares)}"));
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection db, string sql)
    {
        await using var command = new NpgsqlCommand(sql, db);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"Reviewed (\d+) due plans")]
    private static partial System.Text.RegularExpressions.Regex ReviewedLine();
}
