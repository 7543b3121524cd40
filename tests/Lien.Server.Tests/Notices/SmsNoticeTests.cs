using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lien.Server.Leases;
using Lien.Server.Notices;
using Lien.Server.Storage;
using Lien.Server.Tests.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Lien.Server.Tests.Notices;

/// <summary>The server with Africa's Talking configured to the stand-in, and a webhook receiver; both senders driven by the tests.</summary>
public abstract class SmsServer(Store store) : WebhookServer(store)
{
    public const string CallbackToken = "cb-token-0123456789";
    public AfricasTalkingStandIn AfricasTalking { get; } = new();

    public override async ValueTask InitializeAsync()
    {
        await AfricasTalking.StartAsync();
        await base.InitializeAsync();
    }

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        .. base.ExtraSettings,
        new("Lien:Sms:PollInterval", "00:00:00"),
        new("Lien:Sms:AfricasTalking:Username", AfricasTalkingStandIn.Username),
        new("Lien:Sms:AfricasTalking:ApiKey", AfricasTalkingStandIn.ApiKey),
        new("Lien:Sms:AfricasTalking:From", "LIENCO"),
        new("Lien:Sms:AfricasTalking:BaseUrl", AfricasTalking.Url.ToString()),
        new("Lien:Sms:AfricasTalking:CallbackToken", CallbackToken),
    ];

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await AfricasTalking.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteSmsServer() : SmsServer(Store.Sqlite);
public sealed class PostgresSmsServer() : SmsServer(Store.Postgres);

public abstract class SmsNoticeTests(SmsServer server)
{
    private static long _numbers = Random.Shared.NextInt64(100_000, 900_000);

    /// <summary>A fresh Kenyan mobile number whose last three digits are <paramref name="ending"/> (the stand-in's answer).</summary>
    private static string Number(string ending = "101") => $"+2547{Interlocked.Increment(ref _numbers):D5}{ending}";

    // First due in 10 days by default: no notice is due when the plan is made, so a test's own notice is the only one.
    private async Task<(Tenant Lender, JsonElement Device, JsonElement Plan)> PlanAsync(string? phone, string? language = null, int firstDueInDays = 10)
    {
        var a = await server.NewLenderAsync(name: "Mkopo Simu");
        var device = await a.Admin.RegisterAsync();
        var plan = await (await a.Admin.PostAsJsonAsync("/v1/plans", new
        {
            deviceId = device.Id(), borrowerReference = "cust-1", price = 3 * 1_450_00 + 50_00, downPayment = 50_00, borrowerPhone = phone,
            borrowerLanguage = language, generate = new { count = 3, frequency = "Monthly", firstDueDate = server.Today.AddDays(firstDueInDays) },
        })).Json(HttpStatusCode.Created);
        return (a, device, plan);
    }

    /// <summary>
    /// The test-only trigger: what the review does when it decides a notice — every registered listener told in the lease's
    /// unit of work (the merge wires <c>LeaseIssuer</c> to do this).
    /// </summary>
    private async Task NoticeAsync(Tenant a, JsonElement device, JsonElement plan, string kind, long amount = 1_450_00, DateTimeOffset? deadline = null)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        var listeners = scope.ServiceProvider.GetServices<INoticeListener>().ToList();
        Assert.Single(listeners, l => l is SmsNotices);
        var notice = new NoticeIssued(a.LenderId, device.Id(), plan.Id(), kind, server.Time.GetUtcNow(), amount, "KES",
            deadline ?? new DateTimeOffset(2026, 3, 4, 20, 59, 59, TimeSpan.Zero), 2);
        await db.InTransactionAsync(async () =>
        {
            foreach (var l in listeners) await l.NoticeIssuedAsync(db, notice, default);
            return 0;
        });
    }

    private Task<int> DispatchAsync() => server.Services.GetRequiredService<SmsDispatcher>().SendDueAsync(default);

    private static async Task<List<JsonElement>> NoticesAsync(HttpClient c, Guid plan) =>
        (await c.ReadAsync($"/v1/notices?planId={plan}")).GetProperty("items").EnumerateArray().ToList();

    private Task<HttpResponseMessage> ReportAsync(string? token, params (string Key, string Value)[] fields) =>
        server.Client().PostAsync("/v1/sms/africastalking/delivery-reports" + (token is null ? "" : "?token=" + Uri.EscapeDataString(token)),
            new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))));

    [Fact]
    public async Task Reminder_QueuedInTheReviewsTransaction_SentThroughAfricasTalkingThenDelivered()
    {
        // First due in 3 days: the review that creates the plan decides the reminder itself, and queues it in its transaction.
        var phone = Number();
        var (a, _, plan) = await PlanAsync(phone, firstDueInDays: 3);
        var due = plan.GetProperty("installments")[0].Str("dueDate");
        var webhook = server.Receiver.NewPath("notices");
        await (await a.Admin.PostAsJsonAsync("/v1/webhooks/endpoints", new { url = server.Receiver.UrlOf(webhook), eventTypes = new[] { "notice.sent" } }))
            .Json(HttpStatusCode.Created);

        var queued = Assert.Single(await NoticesAsync(a.Admin, plan.Id()));
        Assert.Equal(("reminder", "Queued", phone, "en", "Gsm7", 1),
            (queued.Str("kind"), queued.Str("status"), queued.Str("to"), queued.Str("language"), queued.Str("encoding"), queued.GetProperty("segments").GetInt32()));
        Assert.Equal($"Mkopo Simu: KES 1,450 is due on {due}. Pay with account {plan.Str("reference")} or dial *483*7#. Help 0800 723 000", queued.Str("text"));

        await DispatchAsync();
        var sent = Assert.Single(server.AfricasTalking.Messages, m => m.To == phone);
        Assert.Equal((queued.Str("text"), "LIENCO"), (sent.Message, sent.From));
        var n = await a.Admin.ReadAsync($"/v1/notices/{queued.Id()}");
        Assert.Equal(("Sent", "africastalking", "Success", 101, "KES 0.8000"),
            (n.Str("status"), n.Str("provider"), n.Str("providerStatus"), n.GetProperty("providerStatusCode").GetInt32(), n.Str("cost")));
        var providerId = n.Str("providerMessageId");
        Assert.StartsWith("ATXid_", providerId, StringComparison.Ordinal);

        // The webhook says so, without the borrower's number or the text.
        await server.Services.GetRequiredService<Lien.Server.Webhooks.WebhookSender>().SendDueAsync(default);
        var hook = Assert.Single(server.Receiver.At(webhook));
        Assert.Contains("\"notice.sent\"", hook.Body, StringComparison.Ordinal);
        Assert.Contains(providerId, hook.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(phone, hook.Body, StringComparison.Ordinal);

        await (await ReportAsync(SmsServer.CallbackToken, ("id", providerId), ("status", "Success"), ("phoneNumber", phone), ("networkCode", "63902"))).Json(HttpStatusCode.OK);
        n = await a.Admin.ReadAsync($"/v1/notices/{queued.Id()}");
        Assert.Equal(("Delivered", "Success"), (n.Str("status"), n.Str("providerStatus")));
        Assert.Equal(server.Time.GetUtcNow(), n.GetProperty("deliveredAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Notice_SwahiliBorrowerAndTheLendersOwnText_UsedWithAmountInThePlansCurrency()
    {
        var (a, device, plan) = await PlanAsync(Number(), "sw");
        await NoticeAsync(a, device, plan, NoticeKinds.Locked, amount: 2_900_50);
        Assert.Equal($"Mkopo Simu: simu yako imefungwa. Lipa KES 2,900.50 kwa akaunti {plan.Str("reference")} ili kuifungua. Piga *483*7#. Msaada 0800 723 000",
            Assert.Single(await NoticesAsync(a.Admin, plan.Id())).Str("text"));

        var own = await (await a.Admin.PutAsJsonAsync("/v1/notice-templates/sw/reminder", new { text = "{lender}: lipa {amount} kabla ya {date}. Akaunti {reference}." }))
            .Json(HttpStatusCode.OK);
        Assert.Equal((true, 1), (own.GetProperty("overridden").GetBoolean(), own.GetProperty("segments").GetInt32()));
        await NoticeAsync(a, device, plan, NoticeKinds.Reminder);
        Assert.Equal($"Mkopo Simu: lipa KES 1,450 kabla ya 2026-03-04. Akaunti {plan.Str("reference")}.", (await NoticesAsync(a.Admin, plan.Id())).Single(x => x.Str("kind") == "reminder").Str("text"));

        // Back to Lien's text; the audit trail holds both changes.
        await (await a.Admin.DeleteAsync("/v1/notice-templates/sw/reminder")).Json(HttpStatusCode.NoContent);
        await (await a.Admin.DeleteAsync("/v1/notice-templates/sw/reminder")).Problem(HttpStatusCode.NotFound);
        var templates = (await a.Admin.ReadAsync("/v1/notice-templates")).EnumerateArray().ToList();
        Assert.Equal(SmsTemplates.Languages.Count * NoticeKinds.All.Count, templates.Count);
        Assert.All(templates, t => Assert.False(t.GetProperty("overridden").GetBoolean()));
        var audit = await a.Admin.ReadAsync("/v1/audit?subject=notice-template:sw/reminder");
        Assert.Equal(2, audit.EnumerateArray().Count(e => e.Str("action") == "notice.template-changed"));
    }

    [Fact]
    public async Task Notice_NoBorrowerPhone_NothingQueued()
    {
        var (a, device, plan) = await PlanAsync(phone: null);
        await NoticeAsync(a, device, plan, NoticeKinds.Overdue);
        Assert.Empty(await NoticesAsync(a.Admin, plan.Id()));
    }

    [Fact]
    public async Task Send_ProviderDownThenUp_RetriedWithBackoff()
    {
        var (a, device, plan) = await PlanAsync(Number("500"));
        await NoticeAsync(a, device, plan, NoticeKinds.Overdue);
        await DispatchAsync();
        var n = Assert.Single(await NoticesAsync(a.Admin, plan.Id()));
        Assert.Equal(("Queued", 1), (n.Str("status"), n.GetProperty("attempts").GetInt32()));
        Assert.StartsWith("HTTP 500", n.Str("error"), StringComparison.Ordinal);
        Assert.Equal(server.Time.GetUtcNow() + TimeSpan.FromSeconds(30), n.GetProperty("nextAttemptAt").GetDateTimeOffset());
        await DispatchAsync();
        Assert.Equal(1, (await a.Admin.ReadAsync($"/v1/notices/{n.Id()}")).GetProperty("attempts").GetInt32()); // not due yet
        server.Time.Advance(TimeSpan.FromSeconds(30));
        await DispatchAsync();
        n = await a.Admin.ReadAsync($"/v1/notices/{n.Id()}");
        Assert.Equal(2, n.GetProperty("attempts").GetInt32());
        Assert.Equal(server.Time.GetUtcNow() + TimeSpan.FromSeconds(60), n.GetProperty("nextAttemptAt").GetDateTimeOffset());

        // A day of failures: given up, and said.
        server.Time.Advance(TimeSpan.FromDays(1));
        await DispatchAsync();
        n = await a.Admin.ReadAsync($"/v1/notices/{n.Id()}");
        Assert.Equal("Failed", n.Str("status"));
        var audit = await a.Admin.ReadAsync($"/v1/audit?subject=device:{device.Id()}");
        Assert.Contains(audit.EnumerateArray(), e => e.Str("action") == "notice.failed");
    }

    [Fact]
    public async Task Send_NoAccountConfiguredOnThisNode_MessagesWaitQueued()
    {
        var (a, device, plan) = await PlanAsync(Number());
        await NoticeAsync(a, device, plan, NoticeKinds.Overdue);
        var unconfigured = new AfricasTalkingSms(new HttpClient(), Options.Create(new AfricasTalkingOptions()), NullLogger<AfricasTalkingSms>.Instance);
        Assert.Equal(0, await ActivatorUtilities.CreateInstance<SmsDispatcher>(server.Services, (ISmsSender)unconfigured).SendDueAsync(default));
        var n = Assert.Single(await NoticesAsync(a.Admin, plan.Id()));
        Assert.Equal(("Queued", 0), (n.Str("status"), n.GetProperty("attempts").GetInt32()));
        await DispatchAsync();
        Assert.Equal("Sent", (await a.Admin.ReadAsync($"/v1/notices/{n.Id()}")).Str("status"));
    }

    [Fact]
    public async Task Send_InvalidNumberOrBlacklisted_FailedWithTheProvidersWordsNotRetried()
    {
        var (a, device, plan) = await PlanAsync(Number("406"));
        await NoticeAsync(a, device, plan, NoticeKinds.LockWarning);
        await DispatchAsync();
        var n = Assert.Single(await NoticesAsync(a.Admin, plan.Id()));
        Assert.Equal(("Failed", 406, "UserInBlacklist", "UserInBlacklist"),
            (n.Str("status"), n.GetProperty("providerStatusCode").GetInt32(), n.Str("providerStatus"), n.Str("error")));
        server.Time.Advance(TimeSpan.FromHours(2));
        await DispatchAsync();
        Assert.Equal(1, (await a.Admin.ReadAsync($"/v1/notices/{n.Id()}")).GetProperty("attempts").GetInt32());
        var failed = (await a.Admin.ReadAsync($"/v1/audit?subject=device:{device.Id()}")).EnumerateArray().Single(e => e.Str("action") == "notice.failed");
        Assert.Equal("UserInBlacklist", failed.Str("reason"));
    }

    [Fact]
    public async Task DeliveryReport_FailedAfterSent_NoticeFailedWithTheReason()
    {
        var (a, device, plan) = await PlanAsync(Number());
        await NoticeAsync(a, device, plan, NoticeKinds.DueToday);
        await DispatchAsync();
        var n = Assert.Single(await NoticesAsync(a.Admin, plan.Id()));
        await (await ReportAsync(SmsServer.CallbackToken, ("id", n.Str("providerMessageId")), ("status", "Failed"), ("failureReason", "AbsentSubscriber"))).Json(HttpStatusCode.OK);
        n = await a.Admin.ReadAsync($"/v1/notices/{n.Id()}");
        Assert.Equal(("Failed", "AbsentSubscriber"), (n.Str("status"), n.Str("error")));
        // A late Success for a failed message changes nothing.
        await (await ReportAsync(SmsServer.CallbackToken, ("id", n.Str("providerMessageId")), ("status", "Success"))).Json(HttpStatusCode.OK);
        Assert.Equal("Failed", (await a.Admin.ReadAsync($"/v1/notices/{n.Id()}")).Str("status"));
    }

    [Fact]
    public async Task DeliveryReport_HostileOrUnauthenticated_RefusedWithProblemsAndNothingChanged()
    {
        var (a, device, plan) = await PlanAsync(Number());
        await NoticeAsync(a, device, plan, NoticeKinds.Reminder);
        await DispatchAsync();
        var n = Assert.Single(await NoticesAsync(a.Admin, plan.Id()));
        var id = n.Str("providerMessageId");
        await (await ReportAsync(null, ("id", id), ("status", "Success"))).Problem(HttpStatusCode.Unauthorized);
        await (await ReportAsync("wrong", ("id", id), ("status", "Success"))).Problem(HttpStatusCode.Unauthorized);
        await (await ReportAsync(SmsServer.CallbackToken + "x", ("id", id), ("status", "Success"))).Problem(HttpStatusCode.Unauthorized);
        await (await ReportAsync(SmsServer.CallbackToken, ("status", "Success"))).Problem(HttpStatusCode.BadRequest);
        await (await ReportAsync(SmsServer.CallbackToken, ("id", id), ("status", "Succ\0ess"))).Problem(HttpStatusCode.BadRequest);
        await (await ReportAsync(SmsServer.CallbackToken, ("id", id), ("status", "Success"), ("failureReason", new string('x', 5_000_000)))).Problem(HttpStatusCode.BadRequest);
        await (await ReportAsync(SmsServer.CallbackToken, ("id", new string('9', 5000)), ("status", "Success"))).Problem(HttpStatusCode.BadRequest);
        await (await ReportAsync(SmsServer.CallbackToken, ("id", id), ("status", "Success"), ("id", "again"))).Problem(HttpStatusCode.BadRequest);
        var json = await server.Client().PostAsync($"/v1/sms/africastalking/delivery-reports?token={SmsServer.CallbackToken}",
            new StringContent($$"""{"id":"{{id}}","status":"Success"}""", Encoding.UTF8, "application/json"));
        await json.Problem(HttpStatusCode.UnsupportedMediaType);
        Assert.Equal("Sent", (await a.Admin.ReadAsync($"/v1/notices/{n.Id()}")).Str("status"));
        // An id Lien never sent: answered alike, nothing written.
        await (await ReportAsync(SmsServer.CallbackToken, ("id", "ATXid_unknown"), ("status", "Success"))).Json(HttpStatusCode.OK);
    }

    public static TheoryData<string, string, string, string> HostileTemplates => new()
    {
        { "an unknown language", "fr", "reminder", """{"text":"x"}""" },
        { "an unknown kind", "en", "birthday", """{"text":"x"}""" },
        { "no text", "en", "overdue", """{}""" },
        { "an empty text", "en", "overdue", """{"text":""}""" },
        { "a NUL in the text", "en", "overdue", """{"text":"pay\u0000now"}""" },
        { "an unknown placeholder", "en", "overdue", """{"text":"Dear {name}, pay {amount}"}""" },
        { "a stray brace", "en", "overdue", """{"text":"pay {amount now"}""" },
        { "a reminder of two segments", "en", "reminder", "{\"text\":\"" + new string('r', 150) + " {amount}\"}" },
        { "a UCS-2 reminder over 70", "sw", "reminder", "{\"text\":\"" + new string('ê', 60) + " {amount}\"}" },
        { "a text of 1000 characters", "en", "overdue", "{\"text\":\"" + new string('t', 1000) + "\"}" },
        { "text as a number", "en", "overdue", """{"text":5}""" },
    };

    [Theory]
    [MemberData(nameof(HostileTemplates))]
    public async Task SetTemplate_HostileInput_A400ProblemAndNothingWritten(string what, string language, string kind, string json)
    {
        var a = await server.NewLenderAsync();
        var r = await a.Admin.PutAsync($"/v1/notice-templates/{language}/{kind}", new StringContent(json, Encoding.UTF8, "application/json"));
        var p = await r.Problem(HttpStatusCode.BadRequest);
        Assert.DoesNotContain("Lien.", p.ToString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(p.Str("detail")), what);
        Assert.Equal(0, await server.WithDbAsync(db => db.NoticeTemplates.CountAsync(t => t.LenderId == a.LenderId)));
    }

    [Fact]
    public async Task Notices_AnotherLenderOrAViewer_SeesOnlyItsOwnAndChangesNoTemplate()
    {
        var (a, device, plan) = await PlanAsync(Number());
        await NoticeAsync(a, device, plan, NoticeKinds.Reminder);
        var n = Assert.Single(await NoticesAsync(a.Admin, plan.Id()));
        var b = await server.NewLenderAsync();
        await (await b.Admin.GetAsync($"/v1/notices/{n.Id()}")).Problem(HttpStatusCode.NotFound);
        Assert.Empty(await NoticesAsync(b.Admin, plan.Id()));
        var viewer = await a.KeyAsync("Viewer", server);
        Assert.Single(await NoticesAsync(viewer, plan.Id()));
        await (await viewer.PutAsJsonAsync("/v1/notice-templates/en/reminder", new { text = "pay {amount}" })).Problem(HttpStatusCode.Forbidden);
        await (await server.Client().GetAsync("/v1/notices")).Problem(HttpStatusCode.Unauthorized);
        await (await a.Admin.GetAsync("/v1/notices?status=Lost")).Problem(HttpStatusCode.BadRequest);
        await (await a.Admin.GetAsync("/v1/notices?after=%00")).Problem(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("0712345678")]
    [InlineData("+0712345678")]
    [InlineData("+2547")]
    [InlineData("+25471234567890123")]
    [InlineData("+254 712 345 678")]
    [InlineData("+254712345678\n")]
    [InlineData("+254712345678\u0000")]
    public async Task Plan_BorrowerPhoneNotE164_Refused(string phone)
    {
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var p = await (await a.Admin.PostAsJsonAsync("/v1/plans", new
        {
            deviceId = device.Id(), price = 30_000, borrowerPhone = phone, generate = new { count = 3, frequency = "Monthly", firstDueDate = server.Today.AddDays(3) },
        })).Problem(HttpStatusCode.BadRequest);
        Assert.True(p.GetProperty("errors").TryGetProperty("borrowerPhone", out _), p.ToString());
    }
}

public sealed class SqliteSmsNoticeTests(SqliteSmsServer server) : SmsNoticeTests(server), IClassFixture<SqliteSmsServer>;
public sealed class PostgresSmsNoticeTests(PostgresSmsServer server) : SmsNoticeTests(server), IClassFixture<PostgresSmsServer>;

/// <summary>The Africa's Talking client alone against the stand-in.</summary>
public sealed class AfricasTalkingSmsTests : IAsyncLifetime
{
    private readonly AfricasTalkingStandIn _at = new();
    public ValueTask InitializeAsync() => new(_at.StartAsync());
    public ValueTask DisposeAsync() => _at.DisposeAsync();

    private AfricasTalkingSms Client(string key = AfricasTalkingStandIn.ApiKey, string? from = null) => new(new HttpClient(), Options.Create(new AfricasTalkingOptions
    {
        Username = AfricasTalkingStandIn.Username, ApiKey = key, From = from, BaseUrl = _at.Url,
    }), NullLogger<AfricasTalkingSms>.Instance);

    [Fact]
    public async Task Send_AValidNumber_TakenWithTheProvidersIdAndCost()
    {
        var r = await Client(from: "LIENCO").SendAsync("+254712345101", "Mkopo: KES 1,450 is due", default);
        Assert.Equal((SmsSendOutcome.Accepted, 101, "Success", "KES 0.8000"), (r.Outcome, r.StatusCode, r.Status, r.Cost));
        Assert.StartsWith("ATXid_", r.MessageId, StringComparison.Ordinal);
        Assert.Equal(new AfricasTalkingStandIn.Sms("+254712345101", "Mkopo: KES 1,450 is due", "LIENCO"), Assert.Single(_at.Messages));
        Assert.Empty(_at.Rejections);
    }

    [Fact]
    public async Task Send_NoFrom_SendsNoFromField()
    {
        await Client().SendAsync("+254712345101", "hello", default);
        Assert.Null(Assert.Single(_at.Messages).From);
    }

    [Theory]
    [InlineData("+254712345403", "Rejected", 403)]
    [InlineData("+254712345406", "Rejected", 406)]
    [InlineData("+254712345405", "RetryLater", 405)]
    [InlineData("+254712345500", "RetryLater", 500)]
    public async Task Send_ProviderRefusesOrFails_RejectedOrRetryLater(string to, string outcome, int code)
    {
        var r = await Client().SendAsync(to, "hello", default);
        Assert.Equal((outcome, code), (r.Outcome.ToString(), r.StatusCode));
        Assert.NotNull(r.Error);
        Assert.Null(r.MessageId);
    }

    [Fact]
    public async Task Send_WrongApiKey_RetryLaterAndTheStandInRefusedIt()
    {
        var r = await Client(key: "wrong").SendAsync("+254712345101", "hello", default);
        Assert.Equal((SmsSendOutcome.RetryLater, 401), (r.Outcome, r.StatusCode));
        Assert.Single(_at.Rejections);
        Assert.Empty(_at.Messages);
    }

    [Theory]
    [InlineData(100, "Accepted")]
    [InlineData(101, "Accepted")]
    [InlineData(102, "Accepted")]
    [InlineData(401, "Rejected")]
    [InlineData(402, "Rejected")]
    [InlineData(403, "Rejected")]
    [InlineData(404, "Rejected")]
    [InlineData(405, "RetryLater")]
    [InlineData(406, "Rejected")]
    [InlineData(407, "Rejected")]
    [InlineData(409, "Rejected")]
    [InlineData(500, "RetryLater")]
    [InlineData(501, "RetryLater")]
    [InlineData(502, "Rejected")]
    [InlineData(999, "Rejected")]
    public void OutcomeOf_EachDocumentedStatusCode(int code, string expected) => Assert.Equal(expected, AfricasTalkingSms.OutcomeOf(code).ToString());
}
