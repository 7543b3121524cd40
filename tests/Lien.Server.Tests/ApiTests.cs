using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lien.Protocol;

namespace Lien.Server.Tests;

/// <summary>The lender API through real HTTP; every test runs on SQLite and on PostgreSQL (see the derived classes).</summary>
public abstract class ApiTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    [Fact]
    public async Task Schema_Migrations_MatchTheModel()
    {
        await Server.NewLenderAsync(); // skips when the store is not configured
        Assert.False(await Server.WithDbAsync(db => Task.FromResult(Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.HasPendingModelChanges(db.Database))),
            "The model has changed since the last migration: run scripts/add-migration.sh NAME.");
    }

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
        var a = await Server.NewLenderAsync();
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
    public async Task Payments_SamePaymentPostedConcurrently_RecordedOnce()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(10));
        var clients = Enumerable.Range(0, 8).Select(_ => Server.Client(a.Token)).ToList();
        var responses = await Task.WhenAll(clients.Select(c => c.PayAsync(plan.Id(), 70_00, "MPESA-TX-1")));

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, r.StatusCode.ToString()));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        var ids = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<JsonElement>()).Id()));
        Assert.Single(ids.Distinct());
        Assert.Single((await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}/payments")).EnumerateArray());
        Assert.Equal(70_00, (await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}")).Long("paid"));

        // The same transaction id with another amount is a conflict, not a second payment.
        await (await a.Admin.PayAsync(plan.Id(), 80_00, "MPESA-TX-1")).Problem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Payments_AllocationReversalAndPayoff_FollowTheLedger()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(10), count: 3, each: 100_00);

        var p1 = await (await a.Admin.PayAsync(plan.Id(), 150_00)).Json(HttpStatusCode.Created);
        var view = await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}");
        Assert.Equal([100_00L, 50_00L, 0L], view.GetProperty("installments").EnumerateArray().Select(i => i.Long("paid")));
        Assert.Equal(150_00, view.Long("outstanding"));

        var reversal = await (await a.Admin.PostAsJsonAsync($"/v1/payments/{p1.Id()}/reversal", new { reason = "provider reversed: wrong account" })).Json(HttpStatusCode.Created);
        Assert.Equal(-150_00, reversal.Long("amount"));
        Assert.Equal("Reversal", reversal.Str("kind"));
        await (await a.Admin.PostAsJsonAsync($"/v1/payments/{p1.Id()}/reversal", new { reason = "again" })).Problem(HttpStatusCode.Conflict);
        await (await a.Admin.PostAsJsonAsync($"/v1/payments/{reversal.Id()}/reversal", new { reason = "undo" })).Problem(HttpStatusCode.Conflict);
        await (await a.Admin.PostAsJsonAsync($"/v1/payments/{p1.Id()}/reversal", new { })).Problem(HttpStatusCode.BadRequest);
        view = await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}");
        Assert.Equal(0, view.Long("paid"));
        Assert.Equal(2, (await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}/payments")).GetArrayLength()); // append-only

        await (await a.Admin.PayAsync(plan.Id(), 250_00)).Json(HttpStatusCode.Created);
        var last = await (await a.Admin.PayAsync(plan.Id(), 80_00)).Json(HttpStatusCode.Created);
        Assert.Equal("Released", last.Str("leaseMode"));
        view = await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}");
        Assert.Equal("PaidOff", view.Str("status"));
        Assert.Equal("PaidOff", view.Str("lifecycle"));
        Assert.Equal(30_00, view.Long("credit"));
        Assert.NotNull((await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).GetProperty("releasedAt").GetString());

        // A reversal after payoff reopens the debt, but Released is final.
        await (await a.Admin.PostAsJsonAsync($"/v1/payments/{last.Id()}/reversal", new { reason = "chargeback" })).Json(HttpStatusCode.Created);
        view = await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}");
        Assert.Equal("Active", view.Str("lifecycle"));
        Assert.Equal(50_00, view.Long("outstanding"));
        Assert.Equal("Released", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).Str("mode"));
    }

    [Theory]
    [InlineData("""{"amount":0}""", "amount")]
    [InlineData("""{"amount":-5}""", "amount")]
    [InlineData("""{"currency":"USD"}""", "Wrong currency")]
    [InlineData("""{"currency":"XXQ"}""", "currency")]
    [InlineData("""{"unknownPlan":true}""", "Unknown plan")]
    public async Task Payments_BadPayment_ClearProblemAndNothingStored(string twist, string expected)
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(10));
        var t = JsonDocument.Parse(twist).RootElement;
        var body = new
        {
            planId = t.TryGetProperty("unknownPlan", out _) ? Guid.NewGuid() : plan.Id(),
            amount = t.TryGetProperty("amount", out var amt) ? amt.GetInt64() : 100,
            currency = t.TryGetProperty("currency", out var cur) ? cur.GetString() : "KES",
            provider = "mpesa",
            providerTransactionId = "TX-BAD",
        };
        var r = await a.Admin.PostAsJsonAsync("/v1/payments", body);
        Assert.True((int)r.StatusCode is >= 400 and < 500);
        var problem = await r.Problem(r.StatusCode);
        Assert.Contains(expected, problem.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(0, (await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}/payments")).GetArrayLength());
        Assert.Equal(0, (await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}")).Long("paid"));
    }

    [Fact]
    public async Task Leases_EveryChange_SeqStrictlyIncreasesAndVerifiesWithPublishedKey()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(2), count: 2);
        Server.Time.Advance(TimeSpan.FromDays(7)); // past due + grace
        await Server.ReviewAsync();
        Assert.Equal("Locked", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).Str("mode"));
        var pay = await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        Assert.Equal("Unlocked", pay.Str("leaseMode"));
        await (await a.Admin.PostAsJsonAsync("/v1/lender/keys/rotate", new { })).Json(HttpStatusCode.OK);
        await (await a.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);

        var history = (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/leases")).EnumerateArray().Reverse().ToList();
        Assert.Equal(Enumerable.Range(1, history.Count).Select(i => (long)i), history.Select(l => l.Long("seq")));
        Assert.Equal(["Unlocked", "Unlocked", "Locked", "Unlocked", "Released"], history.Select(l => l.Str("mode")));

        var keys = (await Server.Client().GetFromJsonAsync<List<TrustKey>>($"/v1/lenders/{a.LenderId}/keys", LeaseClaims.Json))!;
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

    [Fact]
    public async Task Review_OverduePastGrace_LocksOnTimeNotBefore()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today, count: 2);
        var lockAt = Policy.EndOfDay(Server.Today.AddDays(3), TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi"));
        var lease = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease");
        var allowanceEnd = DateTimeOffset.FromUnixTimeSeconds(Server.Time.GetUtcNow().ToUnixTimeSeconds()).AddHours(72);
        Assert.Equal(lockAt < allowanceEnd ? lockAt : allowanceEnd, lease.GetProperty("unlockedUntil").GetDateTimeOffset());

        Server.Time.SetUtcNow(lockAt.AddSeconds(-1));
        await Server.ReviewAsync();
        Assert.Equal("Unlocked", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).Str("mode"));
        var overdue = await a.Admin.ReadAsync($"/v1/plans/{plan.Id()}");
        Assert.Equal("Overdue", overdue.Str("status"));
        Assert.Equal(3, overdue.GetProperty("daysPastDue").GetInt32());

        Server.Time.SetUtcNow(lockAt);
        Assert.True(await Server.ReviewAsync() >= 1);
        var locked = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease");
        Assert.Equal("Locked", locked.Str("mode"));
        Assert.Equal(100_00, locked.GetProperty("screen").Long("amountDueMinor"));
        Assert.Equal(plan.Str("reference"), locked.GetProperty("screen").Str("payReference"));
        Assert.Equal("scheduled review", locked.Str("cause"));
        Assert.Equal(0, await Server.ReviewAsync()); // nothing left due
    }

    [Fact]
    public async Task Review_StaysLocked_LockScreenFollowsTheSchedule()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi");
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today, count: 2);
        var secondDue = DateOnly.Parse(plan.GetProperty("installments")[1].Str("dueDate"), System.Globalization.CultureInfo.InvariantCulture);
        Server.Time.SetUtcNow(Policy.EndOfDay(Server.Today.AddDays(3), zone));
        await Server.ReviewAsync();
        Assert.Equal(100_00, (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease")).GetProperty("screen").Long("amountDueMinor"));

        // Nobody pays; the second installment passes its grace too. The locked phone must now ask for both.
        Server.Time.SetUtcNow(Policy.EndOfDay(secondDue.AddDays(3), zone));
        await Server.ReviewAsync();
        var lease = await a.Admin.ReadAsync($"/v1/devices/{device.Id()}/lease");
        Assert.Equal("Locked", lease.Str("mode"));
        Assert.Equal(200_00, lease.GetProperty("screen").Long("amountDueMinor"));
        Assert.Equal("scheduled review", lease.Str("cause"));
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

    [Theory]
    [InlineData("POST", "/v1/devices", "{")]
    [InlineData("POST", "/v1/devices", "[]")]
    [InlineData("POST", "/v1/devices", """{"imei": 12}""")]
    [InlineData("POST", "/v1/devices", "")]
    [InlineData("POST", "/v1/plans", """{"deviceId":"not-a-guid"}""")]
    [InlineData("POST", "/v1/plans", """{"deviceId":null,"price":"ten"}""")]
    [InlineData("POST", "/v1/plans", """{"price":100,"generate":{"count":2,"frequency":"Fortnightly","firstDueDate":"2026-01-01"}}""")]
    [InlineData("POST", "/v1/plans", """{"price":100,"installments":[{"dueDate":"2026-13-45","amount":1}]}""")]
    [InlineData("POST", "/v1/plans", """{"price":9223372036854775807,"downPayment":-9223372036854775808,"generate":{"count":1,"frequency":"Daily","firstDueDate":"2026-01-01"}}""")]
    [InlineData("POST", "/v1/payments", """{"amount":1e400}""")]
    [InlineData("POST", "/v1/payments", """{"planId":"00000000-0000-0000-0000-000000000000","amount":9223372036854775807,"currency":"KES","provider":"p","providerTransactionId":"t"}""")]
    [InlineData("PATCH", "/v1/lender", """{"timeZone":"Mars/Olympus"}""")]
    [InlineData("PATCH", "/v1/lender", """{"offlineAllowanceHours":0}""")]
    [InlineData("POST", "/v1/api-keys", """{"name":"x","role":"Root"}""")]
    [InlineData("POST", "/v1/device/enroll", """{"imeis":["1"],"publicKey":"@@","signedAt":0,"signature":"x"}""")]
    [InlineData("POST", "/v1/device/enroll", """{"imeis":null}""")]
    [InlineData("POST", "/v1/device/checkin", """{"appliedSeq":"x"}""")]
    [InlineData("GET", "/v1/devices/not-a-guid", null)]
    [InlineData("GET", "/v1/plans?lifecycle=Sideways", null)]
    [InlineData("GET", "/v1/audit?after=x", null)]
    public async Task Malformed_Input_IsA4xxProblemNeverA500(string method, string url, string? body)
    {
        var a = await Server.NewLenderAsync();
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        var r = await a.Admin.SendAsync(request);
        Assert.True((int)r.StatusCode is >= 400 and < 500, $"{(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        if (r.StatusCode != HttpStatusCode.NotFound || url.Contains("/v1/devices/not-a-guid", StringComparison.Ordinal) is false)
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Audit_EveryChange_HashChainedAndTamperingDetected()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(3));
        await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);
        var events = (await a.Admin.ReadAsync("/v1/audit")).EnumerateArray().ToList();
        Assert.Contains(events, e => e.Str("action") == "device.registered");
        Assert.Contains(events, e => e.Str("action") == "plan.created");
        Assert.Contains(events, e => e.Str("action") == "payment.recorded");
        Assert.Contains(events, e => e.Str("action") == "device.unlocked" && e.GetProperty("policy").GetString() == "standard");
        Assert.True((await a.Admin.ReadAsync("/v1/audit/verify")).GetProperty("intact").GetBoolean());

        var seq = events.First(e => e.Str("action") == "plan.created").Long("seq");
        await Server.WithDbAsync(async db =>
        {
            var row = db.AuditEvents.First(e => e.LenderId == a.LenderId && e.Seq == seq);
            row.Reason = "edited after the fact";
            return await db.SaveChangesAsync();
        });
        var check = await a.Admin.ReadAsync("/v1/audit/verify");
        Assert.False(check.GetProperty("intact").GetBoolean());
        Assert.Equal(seq, check.Long("brokenAt"));
    }
}

public sealed class SqliteApiTests(SqliteServer server) : ApiTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresApiTests(PostgresServer server) : ApiTests(server), IClassFixture<PostgresServer>;
