using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lien.Server.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using StandardWebhooks;

namespace Lien.Server.Tests.Webhooks;

/// <summary>Outbound webhooks through HTTP: endpoints made through the API, events delivered signed to a receiver on loopback.</summary>
public abstract class WebhookTests(WebhookServer server)
{
    protected WebhookServer Server { get; } = server;
    private WebhookReceiver Receiver => Server.Receiver;

    private Task<int> SendAsync() => Server.Services.GetRequiredService<WebhookSender>().SendDueAsync(default);

    private async Task<(Tenant Lender, JsonElement Plan)> LenderWithPlanAsync()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(20));
        return (a, plan);
    }

    private static async Task<(Guid Id, string Secret)> EndpointAsync(HttpClient admin, Uri url, params string[] types)
    {
        var made = await (await admin.PostAsJsonAsync("/v1/webhooks/endpoints",
            new { url, description = "ledger sync", eventTypes = types.Length == 0 ? null : types })).Json(HttpStatusCode.Created);
        return (made.GetProperty("endpoint").Id(), made.Str("secret"));
    }

    private static async Task<List<JsonElement>> DeliveriesAsync(HttpClient c, Guid endpoint) =>
        (await c.ReadAsync($"/v1/webhooks/endpoints/{endpoint}/deliveries")).GetProperty("items").EnumerateArray().ToList();

    [Fact]
    public async Task Payment_SubscribedEndpoint_DeliveredSignedAsStandardWebhooksVerifies()
    {
        var (a, plan) = await LenderWithPlanAsync(); // the plan's events were read with no endpoint: the copy must not go stale
        var path = Receiver.NewPath("ledger");
        var (endpoint, secret) = await EndpointAsync(a.Admin, Receiver.UrlOf(path), "payment.recorded");
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var paid = await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);
        await SendAsync();

        var r = Assert.Single(Receiver.At(path));
        // An independent implementation of the specification signs what was received: the same signature.
        Assert.Equal(new StandardWebhook(secret).Sign(r.Id, DateTimeOffset.FromUnixTimeSeconds(r.Timestamp), r.Body), r.Signature);
        Assert.Equal(Server.Clock.GetUtcNow().ToUnixTimeSeconds(), r.Timestamp);
        Assert.Matches("^msg_[0-9a-f]{32}$", r.Id);
        Assert.StartsWith("application/json", r.Headers["content-type"], StringComparison.Ordinal);
        var body = JsonDocument.Parse(r.Body).RootElement;
        Assert.Equal("payment.recorded", body.Str("type"));
        Assert.Equal($"payment:{paid.Id()}", body.GetProperty("data").Str("subject"));

        var d = Assert.Single(await DeliveriesAsync(a.Admin, endpoint));
        Assert.Equal(("Delivered", 1, 200, r.Id), (d.Str("status"), d.GetProperty("attempts").GetInt32(), d.GetProperty("lastStatusCode").GetInt32(), d.Str("webhookId")));
        Assert.Equal(JsonValueKind.Null, d.GetProperty("nextAttemptAt").ValueKind);
    }

    [Fact]
    public async Task Delivery_ReceiverFailsTwiceThenAnswers_RetriedWithBackoffUnderOneId()
    {
        var (a, plan) = await LenderWithPlanAsync();
        var path = Receiver.NewPath("flaky");
        Receiver.Answer(path, 500, 503, 204);
        var (endpoint, secret) = await EndpointAsync(a.Admin, Receiver.UrlOf(path), "payment.recorded");
        await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);

        await SendAsync();
        var d = Assert.Single(await DeliveriesAsync(a.Admin, endpoint));
        Assert.Equal(("Pending", 1, 500), (d.Str("status"), d.GetProperty("attempts").GetInt32(), d.GetProperty("lastStatusCode").GetInt32()));
        Assert.Equal("HTTP 500: receiver is down", d.Str("lastError"));
        Assert.Equal(Server.Time.GetUtcNow() + TimeSpan.FromSeconds(5), d.GetProperty("nextAttemptAt").GetDateTimeOffset());

        await SendAsync(); // not due yet
        Assert.Single(Receiver.At(path));
        Server.Time.Advance(TimeSpan.FromSeconds(5));
        await SendAsync();
        d = Assert.Single(await DeliveriesAsync(a.Admin, endpoint));
        Assert.Equal(Server.Time.GetUtcNow() + TimeSpan.FromSeconds(10), d.GetProperty("nextAttemptAt").GetDateTimeOffset()); // doubled
        Server.Time.Advance(TimeSpan.FromSeconds(10));
        await SendAsync();

        var seen = Receiver.At(path);
        Assert.Equal(3, seen.Count);
        Assert.Single(seen.Select(s => s.Id).Distinct());
        Assert.Equal([0L, 5, 15], seen.Select(s => s.Timestamp - seen[0].Timestamp));
        // Each attempt is signed for its own timestamp.
        Assert.All(seen, s => Assert.Equal(new StandardWebhook(secret).Sign(s.Id, DateTimeOffset.FromUnixTimeSeconds(s.Timestamp), s.Body), s.Signature));
        d = Assert.Single(await DeliveriesAsync(a.Admin, endpoint));
        Assert.Equal(("Delivered", 3, 204), (d.Str("status"), d.GetProperty("attempts").GetInt32(), d.GetProperty("lastStatusCode").GetInt32()));
    }

    [Fact]
    public async Task Delivery_ReceiverDownForDays_GivenUpAfterThreeDaysEndpointDisabledAfterFiveThenRedelivered()
    {
        var (a, plan) = await LenderWithPlanAsync();
        var path = Receiver.NewPath("down");
        Receiver.Answer(path, 503);
        var (endpoint, _) = await EndpointAsync(a.Admin, Receiver.UrlOf(path), "payment.recorded");
        var start = Server.Time.GetUtcNow();
        await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);

        JsonElement d;
        while (true)
        {
            await SendAsync();
            d = Assert.Single(await DeliveriesAsync(a.Admin, endpoint));
            if (d.Str("status") != "Pending") break;
            Server.Time.Advance(d.GetProperty("nextAttemptAt").GetDateTimeOffset() - Server.Time.GetUtcNow());
        }
        Assert.Equal("Failed", d.Str("status"));
        var last = d.GetProperty("lastAttemptAt").GetDateTimeOffset();
        Assert.InRange(last, start + TimeSpan.FromDays(3), start + TimeSpan.FromDays(3) + TimeSpan.FromHours(8));
        Assert.InRange(d.GetProperty("attempts").GetInt32(), 15, 30); // doubling from 5 s, then every 8 hours
        Assert.Equal(Receiver.At(path).Count, d.GetProperty("attempts").GetInt32());
        var e = await a.Admin.ReadAsync($"/v1/webhooks/endpoints/{endpoint}");
        Assert.True(e.GetProperty("enabled").GetBoolean()); // three days of failures: not yet disabled
        Assert.Equal(start, e.GetProperty("failingSince").GetDateTimeOffset());

        // Still failing five days on: disabled, and it says why.
        Server.Time.Advance(start + TimeSpan.FromDays(5) - Server.Time.GetUtcNow());
        await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);
        await SendAsync();
        e = await a.Admin.ReadAsync($"/v1/webhooks/endpoints/{endpoint}");
        Assert.False(e.GetProperty("enabled").GetBoolean());
        Assert.StartsWith("Disabled automatically: every delivery failed from", e.Str("disabledReason"), StringComparison.Ordinal);
        Assert.Contains("HTTP 503", e.Str("disabledReason"), StringComparison.Ordinal);
        var audit = await a.Admin.ReadAsync($"/v1/audit?subject=webhook-endpoint:{endpoint}");
        Assert.Contains(audit.EnumerateArray(), x => x.Str("action") == "webhook.endpoint-disabled" && x.Str("actor") == "webhook-sender");

        // A disabled endpoint is sent nothing new; its deliveries cannot be sent again until it is enabled.
        await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);
        var deliveries = await DeliveriesAsync(a.Admin, endpoint);
        Assert.Equal(2, deliveries.Count);
        var first = deliveries[0].Id();
        await (await a.Admin.PostAsync($"/v1/webhooks/deliveries/{first}/redeliver", null)).Problem(HttpStatusCode.Conflict);
        e = await (await a.Admin.PatchAsJsonAsync($"/v1/webhooks/endpoints/{endpoint}", new { enabled = true })).Json(HttpStatusCode.OK);
        Assert.Equal((true, JsonValueKind.Null, JsonValueKind.Null), (e.GetProperty("enabled").GetBoolean(), e.GetProperty("disabledReason").ValueKind, e.GetProperty("failingSince").ValueKind));

        Receiver.Answer(path, 200);
        var again = await (await a.Admin.PostAsync($"/v1/webhooks/deliveries/{first}/redeliver", null)).Json(HttpStatusCode.Accepted);
        Assert.Equal("Pending", again.Str("status"));
        await SendAsync();
        d = await a.Admin.ReadAsync($"/v1/webhooks/deliveries/{first}");
        Assert.Equal("Delivered", d.Str("status"));
        Assert.Equal(d.Str("webhookId"), Receiver.At(path)[^1].Id);
    }

    [Fact]
    public async Task Redeliver_DeliveredMessage_SentAgainWithTheSameIdAndBody()
    {
        var (a, plan) = await LenderWithPlanAsync();
        var path = Receiver.NewPath("again");
        var (endpoint, _) = await EndpointAsync(a.Admin, Receiver.UrlOf(path));
        await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);
        await SendAsync();
        var paid = Assert.Single(Receiver.At(path), r => r.Body.Contains("\"payment.recorded\"", StringComparison.Ordinal));
        var delivery = (await DeliveriesAsync(a.Admin, endpoint)).Single(x => x.Str("eventType") == "payment.recorded");

        var viewer = await a.KeyAsync("Viewer", Server);
        await (await viewer.PostAsync($"/v1/webhooks/deliveries/{delivery.Id()}/redeliver", null)).Problem(HttpStatusCode.Forbidden);
        await (await a.Admin.PostAsync($"/v1/webhooks/deliveries/{delivery.Id()}/redeliver", null)).Json(HttpStatusCode.Accepted);
        await SendAsync();
        var resent = Receiver.At(path).Where(r => r.Id == paid.Id).ToList();
        Assert.Equal(2, resent.Count);
        Assert.Equal(resent[0].Body, resent[1].Body);
        Assert.Equal(2, (await viewer.ReadAsync($"/v1/webhooks/deliveries/{delivery.Id()}")).GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task Events_OnlyTheTypesAnEndpointWants_AndEveryTypeWithAStar()
    {
        var (a, plan) = await LenderWithPlanAsync();
        var (locks, _) = await EndpointAsync(a.Admin, Receiver.UrlOf(Receiver.NewPath("locks")), "device.locked");
        var (all, _) = await EndpointAsync(a.Admin, Receiver.UrlOf(Receiver.NewPath("all")), "*");
        var paid = await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);
        await (await a.Admin.PostAsJsonAsync($"/v1/payments/{paid.Id()}/reversal", new { reason = "wrong account" })).Json(HttpStatusCode.Created);
        Assert.Empty(await DeliveriesAsync(a.Admin, locks));
        var types = (await DeliveriesAsync(a.Admin, all)).Select(d => d.Str("eventType")).ToList();
        Assert.Contains("payment.recorded", types);
        Assert.Contains("payment.reversed", types);
        Assert.DoesNotContain("plan.created", types); // not a webhook event type
        Assert.Equal(["*"], (await a.Admin.ReadAsync($"/v1/webhooks/endpoints/{all}")).GetProperty("eventTypes").EnumerateArray().Select(t => t.GetString()));

        // Changing the types applies to the next event at once.
        await (await a.Admin.PatchAsJsonAsync($"/v1/webhooks/endpoints/{locks}", new { eventTypes = new[] { "payment.recorded" } })).Json(HttpStatusCode.OK);
        await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);
        Assert.Equal("payment.recorded", Assert.Single(await DeliveriesAsync(a.Admin, locks)).Str("eventType"));
    }

    [Fact]
    public async Task Delivery_ARedirect_IsNotFollowedButRetried()
    {
        var (a, plan) = await LenderWithPlanAsync();
        var path = Receiver.NewPath("moved");
        Receiver.Answer(path, 302, 200);
        var (endpoint, _) = await EndpointAsync(a.Admin, Receiver.UrlOf(path), "payment.recorded");
        await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);
        await SendAsync();
        var d = Assert.Single(await DeliveriesAsync(a.Admin, endpoint));
        Assert.Equal(("Pending", 302), (d.Str("status"), d.GetProperty("lastStatusCode").GetInt32()));
        Server.Time.Advance(TimeSpan.FromSeconds(5));
        await SendAsync();
        Assert.Equal(2, Receiver.At(path).Count);
        Assert.Equal("Delivered", Assert.Single(await DeliveriesAsync(a.Admin, endpoint)).Str("status"));
    }

    [Fact]
    public async Task Delivery_ReceiverSlowerThanTheTimeout_AFailedAttemptRetried()
    {
        var (a, plan) = await LenderWithPlanAsync();
        var path = Receiver.NewPath("slow");
        Receiver.Delay(path, TimeSpan.FromSeconds(10));
        var (endpoint, _) = await EndpointAsync(a.Admin, Receiver.UrlOf(path), "payment.recorded");
        await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);
        await SendAsync();
        var d = Assert.Single(await DeliveriesAsync(a.Admin, endpoint));
        Assert.Equal(("Pending", 1, JsonValueKind.Null, "No answer within 2 s."),
            (d.Str("status"), d.GetProperty("attempts").GetInt32(), d.GetProperty("lastStatusCode").ValueKind, d.Str("lastError")));
    }

    [Fact]
    public async Task Payment_PostedTwiceAtOnce_OneDeliveryFromTheTransactionThatCommitted()
    {
        var (a, plan) = await LenderWithPlanAsync();
        var (endpoint, _) = await EndpointAsync(a.Admin, Receiver.UrlOf(Receiver.NewPath("once")), "payment.recorded");
        var tx = Guid.NewGuid().ToString("N");
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => a.Admin.PayAsync(plan.Id(), 10_00, tx)));
        Assert.All(answers, r => Assert.True(r.IsSuccessStatusCode));
        Assert.Single(await DeliveriesAsync(a.Admin, endpoint));
    }

    [Fact]
    public async Task LeaseApplied_DeviceAcknowledges_Delivered()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(20));
        var path = Receiver.NewPath("applied");
        await EndpointAsync(a.Admin, Receiver.UrlOf(path), "lease.applied");
        var phone = await Server.Client().EnrollAsync(device.Str("imei"));
        await Server.Client().AckAsync(phone.DeviceToken, phone.Seq);
        await Server.Client().AckAsync(phone.DeviceToken, phone.Seq); // a repeat is no second event
        await SendAsync();
        var r = Assert.Single(Receiver.At(path));
        var data = JsonDocument.Parse(r.Body).RootElement.GetProperty("data");
        Assert.Equal((device.Id(), phone.Seq), (data.GetProperty("deviceId").GetGuid(), data.Long("seq")));
    }

    [Fact]
    public async Task LeaseApplied_NotWanted_AckRecordedAndNoMessage()
    {
        // On PostgreSQL such an ack is written by one statement with no transaction around it (AppliedLeases): the ack
        // is recorded all the same, and the endpoint that wants other events gets no lease.applied.
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(20));
        await EndpointAsync(a.Admin, Receiver.UrlOf(Receiver.NewPath("not-applied")), "payment.recorded");
        var phone = await Server.Client().EnrollAsync(device.Str("imei"));
        await Server.Client().AckAsync(phone.DeviceToken, phone.Seq);
        Assert.Equal(phone.Seq, await Server.WithDbAsync(db => db.Devices.Where(d => d.Id == device.Id()).Select(d => d.AppliedSeq).SingleAsync()));
        Assert.NotNull(await Server.WithDbAsync(db => db.Leases.Where(l => l.DeviceId == device.Id() && l.Seq == phone.Seq).Select(l => l.AppliedAt).SingleAsync()));
        Assert.Equal(0, await Server.WithDbAsync(db => db.WebhookMessages.CountAsync(m => m.LenderId == a.LenderId && m.EventType == "lease.applied")));
    }

    [Fact]
    public async Task NoEndpoint_EventsWriteNoWebhookRows()
    {
        var (a, plan) = await LenderWithPlanAsync();
        await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);
        Assert.Equal(0, await Server.WithDbAsync(db => db.WebhookMessages.CountAsync(m => m.LenderId == a.LenderId)));
    }

    [Fact]
    public async Task Endpoints_AnotherLender_SeesAndChangesNothingAndGetsNoEvents()
    {
        var (a, planA) = await LenderWithPlanAsync();
        var (b, planB) = await LenderWithPlanAsync();
        var path = Receiver.NewPath("tenant");
        var (endpoint, _) = await EndpointAsync(a.Admin, Receiver.UrlOf(path));
        await (await a.Admin.PayAsync(planA.Id(), 10_00)).Json(HttpStatusCode.Created);
        await (await b.Admin.PayAsync(planB.Id(), 10_00)).Json(HttpStatusCode.Created);
        await SendAsync();
        Assert.All(Receiver.At(path), r => Assert.DoesNotContain(planB.Id().ToString(), r.Body, StringComparison.Ordinal));
        var delivery = (await DeliveriesAsync(a.Admin, endpoint))[0].Id();

        Assert.Empty((await b.Admin.ReadAsync("/v1/webhooks/endpoints")).EnumerateArray());
        await (await b.Admin.GetAsync($"/v1/webhooks/endpoints/{endpoint}")).Problem(HttpStatusCode.NotFound);
        await (await b.Admin.GetAsync($"/v1/webhooks/endpoints/{endpoint}/deliveries")).Problem(HttpStatusCode.NotFound);
        await (await b.Admin.GetAsync($"/v1/webhooks/deliveries/{delivery}")).Problem(HttpStatusCode.NotFound);
        await (await b.Admin.PatchAsJsonAsync($"/v1/webhooks/endpoints/{endpoint}", new { enabled = false })).Problem(HttpStatusCode.NotFound);
        await (await b.Admin.PostAsync($"/v1/webhooks/deliveries/{delivery}/redeliver", null)).Problem(HttpStatusCode.NotFound);
        await (await b.Admin.DeleteAsync($"/v1/webhooks/endpoints/{endpoint}")).Problem(HttpStatusCode.NotFound);
        Assert.True((await a.Admin.ReadAsync($"/v1/webhooks/endpoints/{endpoint}")).GetProperty("enabled").GetBoolean());

        // The owner deletes it: gone with its deliveries.
        await (await a.Admin.DeleteAsync($"/v1/webhooks/endpoints/{endpoint}")).Json(HttpStatusCode.NoContent);
        await (await a.Admin.GetAsync($"/v1/webhooks/deliveries/{delivery}")).Problem(HttpStatusCode.NotFound);
    }

    public static TheoryData<string, string, string> HostileBodies => new()
    {
        { "no url", """{"description":"x"}""", "url" },
        { "an empty url", """{"url":""}""", "url" },
        { "a relative url", """{"url":"/hooks"}""", "url" },
        { "an ftp url", """{"url":"ftp://example.com/hooks"}""", "url" },
        { "a javascript url", """{"url":"javascript:alert(1)"}""", "url" },
        { "a file url", """{"url":"file:///etc/passwd"}""", "url" },
        { "a NUL in the url", """{"url":"https://example.com/\u0000"}""", "url" },
        { "a newline in the url", """{"url":"https://example.com/\nx"}""", "url" },
        { "a 5000-character url", "{\"url\":\"https://example.com/" + new string('a', 5000) + "\"}", "url" },
        { "url as a number", """{"url":5}""", "url" },
        { "url as an array", """{"url":["https://example.com"]}""", "url" },
        { "a NUL in the description", """{"url":"https://example.com/h","description":"a\u0000b"}""", "description" },
        { "a 1000-character description", "{\"url\":\"https://example.com/h\",\"description\":\"" + new string('d', 1000) + "\"}", "description" },
        { "an unknown event type", """{"url":"https://example.com/h","eventTypes":["payment.made"]}""", "eventTypes[0]" },
        { "an audit action that is no event type", """{"url":"https://example.com/h","eventTypes":["api-key.created"]}""", "eventTypes[0]" },
        { "no event types", """{"url":"https://example.com/h","eventTypes":[]}""", "eventTypes" },
        { "a null event type", """{"url":"https://example.com/h","eventTypes":[null]}""", "eventTypes[0]" },
        { "event types as a string", """{"url":"https://example.com/h","eventTypes":"payment.recorded"}""", "eventTypes" },
        { "an event type as a number", """{"url":"https://example.com/h","eventTypes":[7]}""", "eventTypes[0]" },
        { "a thousand event types", "{\"url\":\"https://example.com/h\",\"eventTypes\":[" + string.Join(",", Enumerable.Repeat("\"payment.recorded\"", 1000)) + "]}", "eventTypes" },
        { "truncated JSON", """{"url":""", "" },
        { "not an object", """["https://example.com/h"]""", "" },
        { "empty body", "", "" },
    };

    [Theory]
    [MemberData(nameof(HostileBodies))]
    public async Task Create_HostileBody_A400ProblemNamingTheFieldAndNothingWritten(string what, string json, string field)
    {
        var a = await Server.NewLenderAsync();
        var r = await a.Admin.PostAsync("/v1/webhooks/endpoints", new StringContent(json, Encoding.UTF8, "application/json"));
        var p = await r.Problem(HttpStatusCode.BadRequest);
        var text = p.ToString();
        Assert.DoesNotContain("Lien.", text, StringComparison.Ordinal);
        if (field.Length > 0)
            Assert.True(p.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _) || p.Str("detail").Contains(field, StringComparison.Ordinal), $"{what}: {text}");
        Assert.Equal(0, await Server.WithDbAsync(db => db.WebhookEndpoints.CountAsync(e => e.LenderId == a.LenderId)));
    }

    [Fact]
    public async Task Endpoints_WrongRoleOrNoKeyOrHostileUpdate_RefusedWithProblems()
    {
        var a = await Server.NewLenderAsync();
        var (endpoint, _) = await EndpointAsync(a.Admin, new Uri("https://example.com/hooks"));
        var viewer = await a.KeyAsync("Viewer", Server);
        var body = new { url = "https://example.com/other" };
        await (await viewer.PostAsJsonAsync("/v1/webhooks/endpoints", body)).Problem(HttpStatusCode.Forbidden);
        await (await viewer.PatchAsJsonAsync($"/v1/webhooks/endpoints/{endpoint}", body)).Problem(HttpStatusCode.Forbidden);
        await (await viewer.DeleteAsync($"/v1/webhooks/endpoints/{endpoint}")).Problem(HttpStatusCode.Forbidden);
        await (await Server.Client().GetAsync("/v1/webhooks/endpoints")).Problem(HttpStatusCode.Unauthorized);
        await (await Server.Client("Bearer \u0001").GetAsync("/v1/webhooks/endpoints")).Problem(HttpStatusCode.Unauthorized);
        Assert.Single((await viewer.ReadAsync("/v1/webhooks/endpoints")).EnumerateArray());

        foreach (var (json, field) in new[]
                 {
                     ("""{"url":""}""", "url"), ("""{"url":"gopher://x"}""", "url"), ("""{"enabled":"yes"}""", "enabled"),
                     ("""{"eventTypes":["*","nope"]}""", "eventTypes[1]"), ("""{"description":"\u001b[31m"}""", "description"),
                 })
        {
            var p = await (await a.Admin.PatchAsync($"/v1/webhooks/endpoints/{endpoint}", new StringContent(json, Encoding.UTF8, "application/json")))
                .Problem(HttpStatusCode.BadRequest);
            Assert.True(p.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _) || p.Str("detail").Contains(field, StringComparison.Ordinal), p.ToString());
        }
        var e = await a.Admin.ReadAsync($"/v1/webhooks/endpoints/{endpoint}");
        Assert.Equal(("https://example.com/hooks", true), (e.Str("url"), e.GetProperty("enabled").GetBoolean()));
        Assert.False(e.TryGetProperty("secret", out _)); // shown once, at creation
        Assert.All((await viewer.ReadAsync("/v1/webhooks/endpoints")).EnumerateArray(), x => Assert.False(x.TryGetProperty("secret", out _)));

        e = await (await a.Admin.PatchAsJsonAsync($"/v1/webhooks/endpoints/{endpoint}", new { url = "https://example.com/v2/hooks", description = "ERP" }))
            .Json(HttpStatusCode.OK);
        Assert.Equal(("https://example.com/v2/hooks", "ERP"), (e.Str("url"), e.Str("description")));
        e = await (await a.Admin.PatchAsJsonAsync($"/v1/webhooks/endpoints/{endpoint}", new { enabled = false })).Json(HttpStatusCode.OK);
        Assert.False(e.GetProperty("enabled").GetBoolean());
        Assert.Matches("^Disabled by api-key:ak[0-9a-f]+\\.$", e.Str("disabledReason"));
        await (await a.Admin.GetAsync("/v1/webhooks/endpoints/" + Guid.NewGuid())).Problem(HttpStatusCode.NotFound);
        await (await a.Admin.GetAsync($"/v1/webhooks/endpoints/{endpoint}/deliveries?status=Lost")).Problem(HttpStatusCode.BadRequest);
        await (await a.Admin.GetAsync($"/v1/webhooks/endpoints/{endpoint}/deliveries?after=%00")).Problem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Create_TwentyFirstEndpoint_RefusedWithConflict()
    {
        var a = await Server.NewLenderAsync();
        for (var i = 0; i < WebhookLimits.EndpointsPerLender; i++) await EndpointAsync(a.Admin, new Uri($"https://example.com/hooks/{i}"));
        var p = await (await a.Admin.PostAsJsonAsync("/v1/webhooks/endpoints", new { url = "https://example.com/one-more" })).Problem(HttpStatusCode.Conflict);
        Assert.Contains("at most 20", p.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoSenders_SameOutboxAtOnce_EachMessageSentOnce()
    {
        var (a, plan) = await LenderWithPlanAsync();
        var path = Receiver.NewPath("two-nodes");
        await EndpointAsync(a.Admin, Receiver.UrlOf(path), "payment.recorded");
        for (var i = 0; i < 120; i++) await (await a.Admin.PayAsync(plan.Id(), 1_00)).Json(HttpStatusCode.Created);
        // Two senders as two nodes run them: their own scopes, one database.
        var one = Server.Services.GetRequiredService<WebhookSender>();
        var other = ActivatorUtilities.CreateInstance<WebhookSender>(Server.Services);
        await Task.WhenAll(Task.Run(() => one.SendDueAsync(default)), Task.Run(() => other.SendDueAsync(default)));
        var seen = Receiver.At(path);
        Assert.Equal(120, seen.Count);
        Assert.Equal(120, seen.Select(r => r.Id).Distinct().Count());
    }
}

public sealed class SqliteWebhookTests(SqliteWebhookServer server) : WebhookTests(server), IClassFixture<SqliteWebhookServer>;

public sealed class PostgresWebhookTests(PostgresWebhookServer server) : WebhookTests(server), IClassFixture<PostgresWebhookServer>
{
    [Fact]
    public async Task EndpointChange_AnnouncedByAnotherNode_ReadAgainHere()
    {
        var a = await Server.NewLenderAsync();
        var subscriptions = Server.Services.GetRequiredService<WebhookSubscriptions>();
        var known = await Server.WithDbAsync(async db => await subscriptions.ForAsync(db, a.LenderId, default));
        Assert.Empty(known);
        // Another node adds an endpoint: its row, then its announcement (as WebhookRegistry does on commit).
        var id = Guid.NewGuid();
        await using var other = new NpgsqlConnection(Server.PostgresConnection);
        await other.OpenAsync();
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO "WebhookEndpoints" ("Id", "LenderId", "Url", "SecretSealed", "CreatedAt") VALUES (@id, @lender, 'https://example.com/h', '\x00', now());
            SELECT pg_notify('lien_webhooks', @payload);
            """, other))
        {
            insert.Parameters.AddWithValue("id", id);
            insert.Parameters.AddWithValue("lender", a.LenderId);
            insert.Parameters.AddWithValue("payload", a.LenderId.ToString("N"));
            await insert.ExecuteNonQueryAsync();
        }
        // Well within the copy's 30-second time to live, which the fake clock never reaches here.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<WebhookSubscriptions.Subscriber> now;
        do
        {
            await Task.Delay(50);
            now = await Server.WithDbAsync(async db => await subscriptions.ForAsync(db, a.LenderId, default));
        } while (now.Count == 0 && waited.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Equal(id, Assert.Single(now).EndpointId);
    }
}

/// <summary>With the real clock: the receiver verifies each delivery as a lender would, timestamp tolerance included.</summary>
public abstract class RealClockWebhookTests(WebhookServer server)
{
    [Fact]
    public async Task Payment_RealClock_StandardWebhooksVerifiesTheRequestAsReceived()
    {
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(20));
        var path = server.Receiver.NewPath("real");
        var made = await (await a.Admin.PostAsJsonAsync("/v1/webhooks/endpoints", new { url = server.Receiver.UrlOf(path), eventTypes = new[] { "payment.recorded" } }))
            .Json(HttpStatusCode.Created);
        await (await a.Admin.PayAsync(plan.Id(), 10_00)).Json(HttpStatusCode.Created);
        await server.Services.GetRequiredService<WebhookSender>().SendDueAsync(default);

        var r = Assert.Single(server.Receiver.At(path));
        var headers = new HeaderDictionary();
        foreach (var (k, v) in r.Headers) headers[k] = v;
        new StandardWebhook(made.Str("secret")).Verify(r.Body, headers); // throws when the signature or timestamp is wrong
        Assert.Throws<StandardWebhooks.Diagnostics.WebhookVerificationException>(() => new StandardWebhook(made.Str("secret")).Verify(r.Body + " ", headers));

        var d = await a.Admin.ReadAsync($"/v1/webhooks/endpoints/{made.GetProperty("endpoint").Id()}/deliveries");
        var stored = d.GetProperty("items")[0];
        Assert.True(stored.GetProperty("deliveredAt").GetDateTimeOffset() >= stored.GetProperty("createdAt").GetDateTimeOffset());
        Assert.Equal(stored.GetProperty("lastAttemptAt").GetDateTimeOffset(), stored.GetProperty("deliveredAt").GetDateTimeOffset());
    }
}

public sealed class SqliteRealClockWebhookTests(SqliteRealClockWebhookServer server) : RealClockWebhookTests(server), IClassFixture<SqliteRealClockWebhookServer>;
public sealed class PostgresRealClockWebhookTests(PostgresRealClockWebhookServer server) : RealClockWebhookTests(server), IClassFixture<PostgresRealClockWebhookServer>;

public sealed class WebhookEventTypeTests
{
    [Fact]
    public void EventTypes_AreAuditActionsByName_ButLeaseAppliedAndTheDisputesTheLifecycleWorkAdds()
    {
        var actions = Lien.Server.Audit.AuditAction.All.Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
        var others = WebhookEventTypes.All.Where(t => !actions.Contains(t)).ToList();
        // Once the dispute actions are in the catalogue, only lease.applied (raised by the device's ack, not audited) remains.
        Assert.Empty(others.Except(["lease.applied", "dispute.opened", "dispute.resolved"]));
        Assert.Contains("lease.applied", others);
        Assert.Equal(WebhookEventTypes.All.Count, WebhookEventTypes.All.Distinct().Count());
    }

    [Fact]
    public void Backoff_DoublesFromFiveSecondsUpToEightHours()
    {
        var o = new WebhookOptions();
        Assert.Equal([5, 10, 20, 40, 80], Enumerable.Range(1, 5).Select(n => (int)o.Backoff(n).TotalSeconds));
        Assert.Equal(TimeSpan.FromHours(8), o.Backoff(14));
        Assert.Equal(TimeSpan.FromHours(8), o.Backoff(1000));
    }
}

/// <summary>The server with a command interceptor that keeps the parameters of every query of the webhook endpoints table.</summary>
public sealed class SqliteCountingServer() : LienServer(Store.Sqlite)
{
    public EndpointReads Reads { get; } = new();

    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(s => s.ConfigureDbContext<Lien.Server.Storage.SqliteLienDb>(o => o.AddInterceptors(Reads)));
    }

    public sealed class EndpointReads : DbCommandInterceptor
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _commands = new();

        /// <summary>Queries of the endpoints table that named <paramref name="lenderId"/>.</summary>
        public int Of(Guid lenderId) => _commands.Count(c => c.Contains(lenderId.ToString(), StringComparison.OrdinalIgnoreCase));

        public override ValueTask<InterceptionResult<System.Data.Common.DbDataReader>> ReaderExecutingAsync(System.Data.Common.DbCommand command,
            CommandEventData eventData, InterceptionResult<System.Data.Common.DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Record(command);
            return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }

        public override InterceptionResult<System.Data.Common.DbDataReader> ReaderExecuting(System.Data.Common.DbCommand command, CommandEventData eventData,
            InterceptionResult<System.Data.Common.DbDataReader> result)
        {
            Record(command);
            return base.ReaderExecuting(command, eventData, result);
        }

        public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(System.Data.Common.DbCommand command, CommandEventData eventData,
            InterceptionResult<object> result, CancellationToken cancellationToken = default)
        {
            Record(command);
            return base.ScalarExecutingAsync(command, eventData, result, cancellationToken);
        }

        private void Record(System.Data.Common.DbCommand c)
        {
            if (c.CommandText.Contains("FROM \"WebhookEndpoints\"", StringComparison.Ordinal))
                _commands.Enqueue(string.Join(",", c.Parameters.Cast<System.Data.Common.DbParameter>().Select(p => p.Value?.ToString())));
        }
    }
}

/// <summary>
/// The payment path reads a lender's webhook endpoints once, then from memory until they change: counted as the database
/// commands of the server that query the endpoints table with the lender's id.
/// </summary>
public sealed class WebhookStatementTests(SqliteCountingServer server) : IClassFixture<SqliteCountingServer>
{
    [Fact]
    public async Task Payments_LenderWithNoEndpoint_ReadItsEndpointsOnceThenNoMore()
    {
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), server.Today.AddDays(20));
        await (await a.Admin.PayAsync(plan.Id(), 1_00)).Json(HttpStatusCode.Created);
        Assert.Equal(1, server.Reads.Of(a.LenderId)); // the lender's first event (its plan's lease) read them

        for (var i = 0; i < 5; i++) await (await a.Admin.PayAsync(plan.Id(), 1_00)).Json(HttpStatusCode.Created);
        Assert.Equal(1, server.Reads.Of(a.LenderId)); // five payments and their events: no statement for webhooks

        await (await a.Admin.PostAsJsonAsync("/v1/webhooks/endpoints", new { url = "https://example.com/h" })).Json(HttpStatusCode.Created);
        Assert.Equal(2, server.Reads.Of(a.LenderId)); // the creation counts the lender's endpoints
        await (await a.Admin.PayAsync(plan.Id(), 1_00)).Json(HttpStatusCode.Created);
        await (await a.Admin.PayAsync(plan.Id(), 1_00)).Json(HttpStatusCode.Created);
        Assert.Equal(3, server.Reads.Of(a.LenderId)); // read again once after the change
    }
}
