using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Mpesa;
using Lien.Server.Mpesa.Sandbox;
using Lien.Server.Payments;
using Lien.Server.UnmatchedPayments;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lien.Server.Tests.Mpesa;

/// <summary>The server, and the Daraja stand-in on a loopback port of its own, both on the fixture's fake clock.</summary>
public abstract class MpesaServer(Store store) : LienServer(store)
{
    private WebApplication? _daraja;
    internal DarajaSandbox Daraja { get; private set; } = null!;
    public Uri DarajaUrl { get; private set; } = null!;

    public override async ValueTask InitializeAsync()
    {
        Daraja = new DarajaSandbox(Time, new HttpClient(), NullLogger<DarajaSandbox>.Instance) { CallbackDelay = TimeSpan.FromSeconds(2) };
        _daraja = await LoopbackApp.StartAsync(a => Daraja.Map(a, ""));
        DarajaUrl = new Uri(_daraja.Urls.First() + "/");
        await base.InitializeAsync();
    }

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [new("Lien:Mpesa:ReconcileInterval", "00:00:00")];

    // "Pay now" on the pay page and in USSD goes to the real M-Pesa client, and so to the stand-in.
    protected override bool RecordsPaymentRequests => false;

    private static int _shortCodes = Random.Shared.Next(100_000, 800_000);

    /// <summary>A lender with M-Pesa set to the stand-in: its own paybill and app there.</summary>
    public async Task<(Tenant Lender, JsonElement Settings)> NewMpesaLenderAsync(string name = "Test Lender")
    {
        var a = await NewLenderAsync(name);
        var code = Interlocked.Increment(ref _shortCodes).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (key, secret, passkey) = ($"key-{code}", $"secret-{code}", $"passkey-{code}");
        Daraja.AddApp(key, secret, code, passkey);
        var settings = await (await a.Admin.PutAsJsonAsync("/v1/lender/mpesa", new
        {
            shortCode = code, consumerKey = key, consumerSecret = secret, passkey, baseUrl = DarajaUrl.ToString(),
            callbackBaseUrl = Client().BaseAddress!.ToString(),
        })).Json(HttpStatusCode.OK);
        return (a, settings);
    }

    /// <summary>The stand-in's callbacks due by now: the fake clock moved past its delay, then <paramref name="id"/>'s delivery awaited.</summary>
    public async Task<int> CallbackAsync(string id)
    {
        Time.Advance(Daraja.CallbackDelay);
        return await Daraja.DeliveredAsync(id).WaitAsync(TimeSpan.FromSeconds(20));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_daraja is not null) await _daraja.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteMpesaServer() : MpesaServer(Store.Sqlite);
public sealed class PostgresMpesaServer() : MpesaServer(Store.Postgres);

public abstract class MpesaTests(MpesaServer server)
{
    private Task<(Tenant Lender, JsonElement Settings)> LenderAsync() => server.NewMpesaLenderAsync();

    private static string Url(JsonElement settings, string which) => settings.GetProperty("callbackUrls").Str(which);

    private async Task<(JsonElement Device, JsonElement Plan)> OverduePlanAsync(Tenant a, string? phone = null, string? imei = null)
    {
        var device = await a.Admin.RegisterAsync(imei);
        var plan = await (await a.Admin.PostAsJsonAsync("/v1/plans", new
        {
            deviceId = device.Id(), borrowerReference = "cust-1", price = 3 * 100_00 + 50_00, downPayment = 50_00, borrowerPhone = phone,
            generate = new { count = 3, frequency = "Monthly", firstDueDate = server.Today.AddDays(-10) }, backdated = true,
        })).Json(HttpStatusCode.Created);
        return (device, plan);
    }

    private static object C2B(string transId, string amount, string reference, string msisdn = "2547 ***** 149") => new
    {
        TransactionType = "Pay Bill", TransID = transId, TransTime = "20260301120000", TransAmount = amount, BusinessShortCode = "600638",
        BillRefNumber = reference, InvoiceNumber = "", OrgAccountBalance = "49197.00", ThirdPartyTransID = "", MSISDN = msisdn,
        FirstName = "John", MiddleName = "", LastName = "Doe",
    };

    private static string NewTransId() => "T" + Guid.NewGuid().ToString("N")[..9].ToUpperInvariant();

    private Task<HttpResponseMessage> PostAsync(string url, object body) => server.Client().PostAsync(url,
        new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));

    private Task<List<Payment>> PaymentsAsync(Guid planId) => server.WithDbAsync(db => db.Payments.AsNoTracking().Where(p => p.PlanId == planId).ToListAsync());

    private Task<List<UnmatchedPayment>> HeldAsync(Guid lenderId) =>
        server.WithDbAsync(db => db.Set<UnmatchedPayment>().AsNoTracking().Where(u => u.LenderId == lenderId).ToListAsync());

    [Fact]
    public async Task Settings_SecretsNeverShown_ChangesAudited()
    {
        var (a, settings) = await LenderAsync();
        var text = settings.GetRawText();
        Assert.DoesNotContain("secret-", text, StringComparison.Ordinal);
        Assert.DoesNotContain("passkey-", text, StringComparison.Ordinal);
        Assert.True(settings.GetProperty("consumerSecretSet").GetBoolean());
        Assert.Matches("/mpesa/[A-Za-z0-9_-]{43}/c2b/confirmation$", Url(settings, "confirmation"));
        var audit = await a.Admin.ReadAsync("/v1/audit");
        var changed = Assert.Single(audit.EnumerateArray(), e => e.Str("action") == "mpesa.settings-changed");
        Assert.DoesNotContain("secret-", changed.GetRawText(), StringComparison.Ordinal);

        // A viewer may not read them; an unknown field type is a 400, not a 500.
        var viewer = await a.KeyAsync("viewer", server);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync("/v1/lender/mpesa")).StatusCode);
        await (await a.Admin.PutAsJsonAsync("/v1/lender/mpesa", new { shortCode = 12345 })).Problem(HttpStatusCode.BadRequest);
        await (await a.Admin.PutAsJsonAsync("/v1/lender/mpesa", new { shortCode = "12a45" })).Problem(HttpStatusCode.BadRequest);
        await (await a.Admin.PutAsJsonAsync("/v1/lender/mpesa", new { allowedSources = new[] { "not-an-ip" } })).Problem(HttpStatusCode.BadRequest);

        // Registering the URLs reaches the stand-in with the URLs carrying the path secret.
        var registered = await (await a.Admin.PostAsync("/v1/lender/mpesa/register-urls", null)).Json(HttpStatusCode.OK);
        Assert.Equal(settings.Str("shortCode"), registered.Str("shortCode"));
    }

    [Fact]
    public async Task Validation_KnownReferenceAccepted_UnknownRejectedWithTheDocumentedCode()
    {
        var (a, settings) = await LenderAsync();
        var (_, plan) = await OverduePlanAsync(a);
        var accepted = await (await PostAsync(Url(settings, "validation"), C2B(NewTransId(), "100.00", plan.Str("reference").ToLowerInvariant()))).Json(HttpStatusCode.OK);
        Assert.Equal(("0", "Accepted"), (accepted.Str("ResultCode"), accepted.Str("ResultDesc")));
        var rejected = await (await PostAsync(Url(settings, "validation"), C2B(NewTransId(), "100.00", "NO-SUCH-PLAN"))).Json(HttpStatusCode.OK);
        Assert.Equal(("C2B00012", "Rejected"), (rejected.Str("ResultCode"), rejected.Str("ResultDesc")));
        var badAmount = await (await PostAsync(Url(settings, "validation"), C2B(NewTransId(), "1,000.5x", plan.Str("reference")))).Json(HttpStatusCode.OK);
        Assert.Equal("C2B00013", badAmount.Str("ResultCode"));
        // Validation writes nothing.
        Assert.Empty(await PaymentsAsync(plan.Id()));
        Assert.Empty(await HeldAsync(a.LenderId));
    }

    [Fact]
    public async Task Confirmation_SentTwice_RecordedOnce_AndAnsweredAsDocumented()
    {
        var (a, settings) = await LenderAsync();
        var (device, plan) = await OverduePlanAsync(a);
        var tx = NewTransId();
        for (var i = 0; i < 2; i++)
        {
            var answer = await (await PostAsync(Url(settings, "confirmation"), C2B(tx, "100.50", plan.Str("reference")))).Json(HttpStatusCode.OK);
            Assert.Equal("{\"ResultCode\":0,\"ResultDesc\":\"Accepted\"}", answer.GetRawText());
        }
        var payment = Assert.Single(await PaymentsAsync(plan.Id()));
        Assert.Equal((100_50L, "KES", "mpesa", tx), (payment.Amount, payment.Currency, payment.Provider, payment.ProviderTransactionId));
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero), payment.ReceivedAt); // 12:00 in Nairobi
        Assert.Equal("Unlocked", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).Str("leaseMode"));
    }

    [Theory]
    [InlineData("1,000.5x")]
    [InlineData("-100")]
    [InlineData("1e2")]
    [InlineData("100.005")]
    public async Task Confirmation_WrongAmountString_RefusedWithoutARecord(string amount)
    {
        var (a, settings) = await LenderAsync();
        var (_, plan) = await OverduePlanAsync(a);
        var problem = await (await PostAsync(Url(settings, "confirmation"), C2B(NewTransId(), amount, plan.Str("reference")))).Problem(HttpStatusCode.BadRequest);
        Assert.Contains("TransAmount", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Empty(await PaymentsAsync(plan.Id()));
        Assert.Empty(await HeldAsync(a.LenderId));
    }

    [Fact]
    public async Task Matching_EachRuleInOrder_NearMissProposedNotApplied()
    {
        var (a, settings) = await LenderAsync();
        var phone = $"+2547{Random.Shared.Next(10_000_000, 99_999_999)}";
        var imei = LenderApi.NewImei();
        var (_, byReference) = await OverduePlanAsync(a);
        var (_, byImei) = await OverduePlanAsync(a, imei: imei);
        var (_, byPhone) = await OverduePlanAsync(a, phone: phone);
        async Task ConfirmAsync(string reference, string? tx = null) =>
            await (await PostAsync(Url(settings, "confirmation"), C2B(tx ?? NewTransId(), "10", reference))).Json(HttpStatusCode.OK);

        var reference = byReference.Str("reference"); // LN-XXXXXX
        await ConfirmAsync($" {reference.ToLowerInvariant().Replace("-", " ", StringComparison.Ordinal)} ");
        await ConfirmAsync(imei);
        await ConfirmAsync("0" + phone[4..]); // 07XXXXXXXX, as a borrower types it
        Assert.Single(await PaymentsAsync(byReference.Id()));
        Assert.Single(await PaymentsAsync(byImei.Id()));
        Assert.Single(await PaymentsAsync(byPhone.Id()));

        // One character off (the last two swapped): proposed, not applied.
        var swapped = reference[..^2] + reference[^1] + reference[^2];
        if (swapped == reference) swapped = reference[..^1] + (reference[^1] == 'Z' ? 'Y' : 'Z');
        var nearTx = NewTransId();
        await ConfirmAsync(swapped, nearTx);
        await ConfirmAsync("SOMETHING-ELSE");
        Assert.Single(await PaymentsAsync(byReference.Id()));
        var held = await a.Admin.ReadAsync("/v1/unmatched-payments?state=Open");
        var items = held.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        var near = Assert.Single(items, i => i.Str("providerTransactionId") == nearTx);
        Assert.Equal(("NearMiss", byReference.Id(), 10_00L), (near.Str("rule"), near.GetProperty("proposedPlanId").GetGuid(), near.Long("amount")));
        Assert.Equal("None", Assert.Single(items, i => i.Str("providerTransactionId") != nearTx).Str("rule"));
        var audit = await a.Admin.ReadAsync("/v1/audit");
        Assert.Equal(2, audit.EnumerateArray().Count(e => e.Str("action") == "payment.unmatched"));
    }

    [Fact]
    public async Task Confirmation_NamingACancelledPlan_HeldUnmatchedNotRecorded()
    {
        var (a, settings) = await LenderAsync();
        var (_, plan) = await OverduePlanAsync(a);
        (await a.Admin.PostAsJsonAsync($"/v1/plans/{plan.Id()}/cancel", new { reason = "returned" })).EnsureSuccessStatusCode();
        var tx = NewTransId();
        await (await PostAsync(Url(settings, "confirmation"), C2B(tx, "10", plan.Str("reference")))).Json(HttpStatusCode.OK);
        await (await PostAsync(Url(settings, "confirmation"), C2B(tx, "10", plan.Str("reference")))).Json(HttpStatusCode.OK); // M-Pesa again
        Assert.Empty(await PaymentsAsync(plan.Id()));
        var held = Assert.Single((await a.Admin.ReadAsync("/v1/unmatched-payments?state=Open")).GetProperty("items").EnumerateArray());
        Assert.Equal((tx, "None", 10_00L), (held.Str("providerTransactionId"), held.Str("rule"), held.Long("amount")));
    }

    [Fact]
    public async Task Unmatched_AssignedToThePlan_ThePhonesStreamReceivesTheUnlockedLease()
    {
        var (a, settings) = await LenderAsync();
        var (device, plan) = await OverduePlanAsync(a);
        await server.WalkUntilLockedAsync(device.Id());
        var enrolled = await server.Client().EnrollAsync(device.Str("imei"));
        await server.Client().AckAsync(enrolled.DeviceToken, enrolled.Seq);
        await using var stream = await Sse.OpenAsync(server.Client(), enrolled.DeviceToken, enrolled.Seq);

        await (await PostAsync(Url(settings, "confirmation"), C2B(NewTransId(), "100.00", "my phone"))).Json(HttpStatusCode.OK);
        var item = Assert.Single((await a.Admin.ReadAsync("/v1/unmatched-payments")).GetProperty("items").EnumerateArray());
        await (await a.Admin.PostAsJsonAsync($"/v1/unmatched-payments/{item.Id()}/assign", new { planId = plan.Id() })).Problem(HttpStatusCode.BadRequest); // a reason is required
        var assigned = await (await a.Admin.PostAsJsonAsync($"/v1/unmatched-payments/{item.Id()}/assign",
            new { planId = plan.Id(), reason = "Borrower called: typed 'my phone' as the account." })).Json(HttpStatusCode.OK);
        Assert.Equal(("Assigned", "Unlocked"), (assigned.Str("state"), assigned.Str("leaseMode")));

        var (seq, jws) = await stream.NextLeaseAsync();
        Assert.Equal((LeaseMode.Unlocked, seq), (Phone.VerifiedClaims(jws, enrolled.KeySet).Mode, Phone.VerifiedClaims(jws, enrolled.KeySet).Seq));
        Assert.Single(await PaymentsAsync(plan.Id()));

        // Closed: neither assigned again nor marked for refund; the audit says who and why.
        await (await a.Admin.PostAsJsonAsync($"/v1/unmatched-payments/{item.Id()}/assign", new { planId = plan.Id(), reason = "again" })).Problem(HttpStatusCode.Conflict);
        await (await a.Admin.PostAsJsonAsync($"/v1/unmatched-payments/{item.Id()}/refund", new { reason = "again" })).Problem(HttpStatusCode.Conflict);
        Assert.Single(await PaymentsAsync(plan.Id()));
        var audit = await a.Admin.ReadAsync($"/v1/audit?subject=unmatched-payment:{item.Id()}");
        Assert.Contains(audit.EnumerateArray(), e => e.Str("action") == "payment.assigned" && e.Str("reason").StartsWith("Borrower called", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unmatched_MarkedForRefund_NeverApplied()
    {
        var (a, settings) = await LenderAsync();
        var (_, plan) = await OverduePlanAsync(a);
        await (await PostAsync(Url(settings, "confirmation"), C2B(NewTransId(), "55.00", "???"))).Json(HttpStatusCode.OK);
        var item = Assert.Single((await a.Admin.ReadAsync("/v1/unmatched-payments")).GetProperty("items").EnumerateArray());
        var refund = await (await a.Admin.PostAsJsonAsync($"/v1/unmatched-payments/{item.Id()}/refund", new { reason = "Not our customer." })).Json(HttpStatusCode.OK);
        Assert.Equal("RefundDue", refund.Str("state"));
        await (await a.Admin.PostAsJsonAsync($"/v1/unmatched-payments/{item.Id()}/assign", new { planId = plan.Id(), reason = "x" })).Problem(HttpStatusCode.Conflict);
        Assert.Empty(await PaymentsAsync(plan.Id()));
        // Another lender sees none of it.
        var other = await server.NewLenderAsync();
        await (await other.Admin.GetAsync($"/v1/unmatched-payments/{item.Id()}")).Problem(HttpStatusCode.NotFound);
        await (await other.Admin.PostAsJsonAsync($"/v1/unmatched-payments/{item.Id()}/refund", new { reason = "x" })).Problem(HttpStatusCode.NotFound);
    }

    private async Task<(Tenant Lender, JsonElement Device, JsonElement Plan, string RequestId, string CheckoutId)> StkPushAsync(string phone)
    {
        var (a, _) = await LenderAsync();
        var (device, plan) = await OverduePlanAsync(a);
        var sent = await (await a.Admin.PostAsJsonAsync($"/v1/plans/{plan.Id()}/mpesa/stk-push", new { phone, amount = 100_00 })).Json(HttpStatusCode.Accepted);
        var requestId = sent.Str("requestId");
        var status = await a.Admin.ReadAsync($"/v1/mpesa/requests/{requestId}");
        Assert.Equal("Pending", status.Str("state"));
        var checkout = await server.WithDbAsync(db => db.Set<MpesaPaymentRequest>().Where(r => r.Id == Guid.ParseExact(requestId, "N")).Select(r => r.CheckoutRequestId).FirstAsync());
        return (a, device, plan, requestId, checkout);
    }

    private Task<int> CallbackAsync(string id) => server.CallbackAsync(id);

    [Fact]
    public async Task StkPush_Paid_RecordedOnTheReceiptAndTheCallbackTwiceRecordsOnce()
    {
        var (a, device, plan, requestId, checkout) = await StkPushAsync("+254708372222"); // 2222: the stand-in calls back twice
        Assert.Equal(200, await CallbackAsync(checkout));
        var status = await a.Admin.ReadAsync($"/v1/mpesa/requests/{requestId}");
        Assert.Equal("Paid", status.Str("state"));
        var payment = Assert.Single(await PaymentsAsync(plan.Id()));
        Assert.Equal((status.Str("receipt"), 100_00L), (payment.ProviderTransactionId, payment.Amount));
        Assert.Equal("Unlocked", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).Str("leaseMode"));
        Assert.DoesNotContain(server.Daraja.Refusals, r => r.Contains("Password", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("+254708371032", "Cancelled")]
    [InlineData("+254708371037", "TimedOut")]
    public async Task StkPush_CancelledOrTimedOut_RequestEndsWithNoPayment(string phone, string state)
    {
        var (a, _, plan, requestId, checkout) = await StkPushAsync(phone);
        await CallbackAsync(checkout);
        Assert.Equal(state, (await a.Admin.ReadAsync($"/v1/mpesa/requests/{requestId}")).Str("state"));
        Assert.Empty(await PaymentsAsync(plan.Id()));
    }

    // The fixture's server is shared: other tests' requests may be pending too, so each test reads its own request's
    // record rather than the reconciler's count.
    private Task<MpesaPaymentRequest> RequestAsync(string requestId) =>
        server.WithDbAsync(db => db.Set<MpesaPaymentRequest>().AsNoTracking().FirstAsync(r => r.Id == Guid.ParseExact(requestId, "N")));

    [Fact]
    public async Task StkPush_CallbackLost_RecoveredByTheTransactionStatusQuery()
    {
        var (a, device, plan, requestId, _) = await StkPushAsync("+254708370000"); // 0000: no callback ever
        var reconciler = server.Services.GetRequiredService<MpesaReconciler>();
        await reconciler.ReconcileAsync(default);
        Assert.Null((await RequestAsync(requestId)).StatusQueriedAt); // not stale yet
        server.Time.Advance(TimeSpan.FromMinutes(3));
        Assert.True(await reconciler.ReconcileAsync(default) >= 1);
        var asked = await RequestAsync(requestId);
        Assert.NotNull(asked.StatusQueriedAt);
        Assert.Equal(200, await CallbackAsync(asked.StatusConversationId!));
        var status = await a.Admin.ReadAsync($"/v1/mpesa/requests/{requestId}");
        Assert.Equal("Paid", status.Str("state"));
        Assert.Equal(status.Str("receipt"), Assert.Single(await PaymentsAsync(plan.Id())).ProviderTransactionId);
        Assert.Equal("Unlocked", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).Str("leaseMode"));
        server.Time.Advance(TimeSpan.FromMinutes(3));
        await reconciler.ReconcileAsync(default);
        Assert.Equal(asked.StatusQueriedAt, (await RequestAsync(requestId)).StatusQueriedAt); // paid: never asked about again
    }

    [Fact]
    public async Task StkPush_NoAnswerForADay_EndedAsFailed_NotAskedAgain()
    {
        var (a, _, plan, requestId, _) = await StkPushAsync("+254708370000"); // 0000: no callback ever
        server.Time.Advance(TimeSpan.FromHours(24));
        await server.Services.GetRequiredService<MpesaReconciler>().ReconcileAsync(default);
        Assert.Null((await RequestAsync(requestId)).StatusQueriedAt); // given up, not asked
        var ended = await a.Admin.ReadAsync($"/v1/mpesa/requests/{requestId}");
        Assert.Equal("Failed", ended.Str("state"));
        Assert.Contains("No answer from M-Pesa within 24 h", ended.Str("resultDesc"));
        Assert.Empty(await PaymentsAsync(plan.Id()));
    }

    [Fact]
    public async Task StkPush_GivenUpOn_ThenPaid_TheMoneyIsStillRecordedOnce()
    {
        var (a, device, plan, requestId, checkout) = await StkPushAsync("+254708375555"); // paid, after the stand-in's delay
        await using (var scope = server.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<MpesaPayments>().QueryStaleAsync(TimeSpan.FromMinutes(3), TimeSpan.Zero, default);
        Assert.Equal("Failed", (await a.Admin.ReadAsync($"/v1/mpesa/requests/{requestId}")).Str("state"));

        Assert.Equal(200, await CallbackAsync(checkout)); // M-Pesa's word comes at last
        Assert.Equal("Paid", (await a.Admin.ReadAsync($"/v1/mpesa/requests/{requestId}")).Str("state"));
        Assert.Single(await PaymentsAsync(plan.Id()));
        Assert.Equal("Unlocked", (await a.Admin.ReadAsync($"/v1/devices/{device.Id()}")).Str("leaseMode"));
    }

    [Fact]
    public async Task StkPush_RefusedBeforeDaraja_AndDarajasErrorsSaid()
    {
        var (a, _) = await LenderAsync();
        var (_, plan) = await OverduePlanAsync(a);
        await (await a.Admin.PostAsJsonAsync($"/v1/plans/{plan.Id()}/mpesa/stk-push", new { phone = "+447911123456", amount = 100_00 })).Problem(HttpStatusCode.UnprocessableEntity);
        await (await a.Admin.PostAsJsonAsync($"/v1/plans/{plan.Id()}/mpesa/stk-push", new { phone = "+254708374149", amount = 100_50 })).Problem(HttpStatusCode.UnprocessableEntity);
        await (await a.Admin.PostAsJsonAsync($"/v1/plans/{Guid.NewGuid()}/mpesa/stk-push", new { phone = "+254708374149", amount = 100_00 })).Problem(HttpStatusCode.UnprocessableEntity);
        var unconfigured = await server.NewLenderAsync();
        await (await unconfigured.Admin.PostAsJsonAsync($"/v1/plans/{plan.Id()}/mpesa/stk-push", new { phone = "+254708374149", amount = 100_00 })).Problem(HttpStatusCode.Conflict);

        // Wrong consumer secret: Daraja's 400.008.01, said in a 502.
        await (await a.Admin.PutAsJsonAsync("/v1/lender/mpesa", new { consumerSecret = "wrong" })).Json(HttpStatusCode.OK);
        var problem = await (await a.Admin.PostAsJsonAsync($"/v1/plans/{plan.Id()}/mpesa/stk-push", new { phone = "+254708374149", amount = 100_00 })).Problem(HttpStatusCode.BadGateway);
        Assert.Contains("400.008.01", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_CachedUntilExpiry_AndRenewedWhenDarajaRefusesIt()
    {
        var (a, _, plan, _, _) = await StkPushAsync("+254708374149");
        var issued = server.Daraja.TokensIssued;
        await (await a.Admin.PostAsJsonAsync($"/v1/plans/{plan.Id()}/mpesa/stk-push", new { phone = "+254708374149", amount = 100_00 })).Json(HttpStatusCode.Accepted);
        Assert.Equal(issued, server.Daraja.TokensIssued); // the cached token
        server.Daraja.ExpireTokens();
        await (await a.Admin.PostAsJsonAsync($"/v1/plans/{plan.Id()}/mpesa/stk-push", new { phone = "+254708374149", amount = 100_00 })).Json(HttpStatusCode.Accepted);
        Assert.Equal(issued + 1, server.Daraja.TokensIssued); // refused as invalid, renewed once
        Assert.Contains(server.Daraja.Refusals, r => r.StartsWith("404.001.03", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Callbacks_WrongPathSecretOrSource_404SayingNothing_AndRotationRetiresTheOldUrls()
    {
        var (a, settings) = await LenderAsync();
        var (_, plan) = await OverduePlanAsync(a);
        var body = C2B(NewTransId(), "10", plan.Str("reference"));
        foreach (var url in new[] { "/mpesa/x/c2b/confirmation", "/mpesa/" + new string('A', 43) + "/c2b/confirmation",
                     Url(settings, "confirmation").Replace("/c2b/", "/c2b/x/", StringComparison.Ordinal) })
        {
            var r = await PostAsync(url, body);
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }
        var rotated = await (await a.Admin.PostAsync("/v1/lender/mpesa/path-secret/rotate", null)).Json(HttpStatusCode.OK);
        Assert.NotEqual(Url(settings, "confirmation"), Url(rotated, "confirmation"));
        var old = await (await PostAsync(Url(settings, "confirmation"), body)).Problem(HttpStatusCode.NotFound);
        Assert.Equal("There is nothing at this address.", old.Str("detail"));
        await (await PostAsync(Url(rotated, "confirmation"), body)).Json(HttpStatusCode.OK);

        // Allowed sources that do not include loopback: the callbacks are not there for it.
        await (await a.Admin.PutAsJsonAsync("/v1/lender/mpesa", new { allowedSources = new[] { "196.201.214.0/24", "196.201.213.44" } })).Json(HttpStatusCode.OK);
        await (await PostAsync(Url(rotated, "confirmation"), body)).Problem(HttpStatusCode.NotFound);
        await (await a.Admin.PutAsJsonAsync("/v1/lender/mpesa", new { allowedSources = new[] { "127.0.0.0/8", "::1" } })).Json(HttpStatusCode.OK);
        await (await PostAsync(Url(rotated, "confirmation"), body)).Json(HttpStatusCode.OK);
        Assert.Single(await PaymentsAsync(plan.Id()));
    }

    [Fact]
    public async Task Callbacks_HostileBodies_4xxProblemAndNothingWritten()
    {
        var (a, settings) = await LenderAsync();
        var (_, plan) = await OverduePlanAsync(a);
        var reference = plan.Str("reference");
        string[] bodies =
        [
            "", "null", "[]", "{", "\"text\"", "{}", "{\"Body\":1}", "{\"Result\":[]}",
            $"{{\"TransID\":{{}},\"TransAmount\":\"10\",\"BillRefNumber\":\"{reference}\"}}",
            $"{{\"TransID\":\"A\\u0000B\",\"TransAmount\":\"10\",\"BillRefNumber\":\"{reference}\"}}",
            $"{{\"TransID\":\"ABC\",\"TransAmount\":true,\"BillRefNumber\":\"{reference}\"}}",
            $"{{\"TransID\":\"{new string('A', 200)}\",\"TransAmount\":\"10\",\"BillRefNumber\":\"{reference}\"}}",
            "{\"Body\":{\"stkCallback\":{\"CheckoutRequestID\":\"ws_CO_1\",\"ResultCode\":0,\"CallbackMetadata\":{\"Item\":[{\"Name\":\"Amount\",\"Value\":\"1,0\"}]}}}}",
            "{\"Body\":{\"stkCallback\":{\"CheckoutRequestID\":\"ws_CO_1\",\"ResultCode\":\"x\"}}}",
            "{\"Result\":{\"ConversationID\":\"AG_1\",\"ResultCode\":0,\"ResultParameters\":{\"ResultParameter\":[{\"Key\":\"TransactionStatus\",\"Value\":\"Completed\"},{\"Key\":\"ReceiptNo\",\"Value\":\"A\\u0000\"},{\"Key\":\"Amount\",\"Value\":10}]}}}",
            "{\"TransID\":\"" + new string('x', 70_000) + "\"}",
        ];
        foreach (var which in new[] { "validation", "confirmation", "stkCallback", "statusResult" })
            foreach (var body in bodies)
            {
                var r = await server.Client().PostAsync(Url(settings, which), new StringContent(body, Encoding.UTF8, "application/json"));
                Assert.True((int)r.StatusCode is >= 400 and < 500, $"{which} {body[..Math.Min(body.Length, 80)]}: {(int)r.StatusCode}");
                Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
            }
        var form = await server.Client().PostAsync(Url(settings, "confirmation"), new FormUrlEncodedContent([new("TransID", "X")]));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
        Assert.Empty(await PaymentsAsync(plan.Id()));
        Assert.Empty(await HeldAsync(a.LenderId));

        // The lender endpoints: malformed authorization and bodies.
        var bare = server.Client();
        bare.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer \u0001junk");
        Assert.Equal(HttpStatusCode.Unauthorized, (await bare.GetAsync("/v1/lender/mpesa")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bare.GetAsync("/v1/unmatched-payments")).StatusCode);
        await (await a.Admin.PostAsync($"/v1/plans/{plan.Id()}/mpesa/stk-push", new StringContent("{\"phone\":5}", Encoding.UTF8, "application/json"))).Problem(HttpStatusCode.BadRequest);
        await (await a.Admin.PostAsync($"/v1/plans/{plan.Id()}/mpesa/stk-push", new StringContent("{\"phone\":\"+2547\\u0000\",\"amount\":100}", Encoding.UTF8, "application/json"))).Problem(HttpStatusCode.BadRequest);
        await (await a.Admin.GetAsync("/v1/mpesa/requests/" + new string('9', 100))).Problem(HttpStatusCode.NotFound);
        await (await a.Admin.GetAsync("/v1/unmatched-payments?state=Nope")).Problem(HttpStatusCode.BadRequest);
        await (await a.Admin.PostAsync($"/v1/unmatched-payments/{Guid.NewGuid()}/assign", new StringContent("{\"planId\":\"x\",\"reason\":\"r\"}", Encoding.UTF8, "application/json"))).Problem(HttpStatusCode.BadRequest);
        await (await a.Admin.PostAsync($"/v1/unmatched-payments/{Guid.NewGuid()}/refund", new StringContent("{\"reason\":\"\\u0000\"}", Encoding.UTF8, "application/json"))).Problem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Confirmation_TenAtOnce_OnePayment()
    {
        var (a, settings) = await LenderAsync();
        var (_, plan) = await OverduePlanAsync(a);
        var tx = NewTransId();
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => PostAsync(Url(settings, "confirmation"), C2B(tx, "100", plan.Str("reference")))));
        Assert.All(answers, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(await PaymentsAsync(plan.Id()));
    }

    [Fact]
    public async Task Unmatched_AssignedTenTimesAtOnce_OnePayment()
    {
        var (a, settings) = await LenderAsync();
        var (_, plan) = await OverduePlanAsync(a);
        await (await PostAsync(Url(settings, "confirmation"), C2B(NewTransId(), "100", "wrong"))).Json(HttpStatusCode.OK);
        var item = Assert.Single((await a.Admin.ReadAsync("/v1/unmatched-payments")).GetProperty("items").EnumerateArray());
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => a.Admin.PostAsJsonAsync($"/v1/unmatched-payments/{item.Id()}/" + (i % 3 == 2 ? "refund" : "assign"),
            new { planId = plan.Id(), reason = "parallel" })));
        Assert.Equal(1, answers.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.All(answers, r => Assert.Contains((int)r.StatusCode, new[] { 200, 409 }));
        var final = await a.Admin.ReadAsync($"/v1/unmatched-payments/{item.Id()}");
        Assert.Equal(final.Str("state") == "Assigned" ? 1 : 0, (await PaymentsAsync(plan.Id())).Count);
    }
}

public sealed class SqliteMpesaTests(SqliteMpesaServer server) : MpesaTests(server), IClassFixture<SqliteMpesaServer>;
public sealed class PostgresMpesaTests(PostgresMpesaServer server) : MpesaTests(server), IClassFixture<PostgresMpesaServer>;
