using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lien.Protocol;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Tests;

/// <summary>
/// The hostile-input corpus: every /v1 endpoint sent what a broken integration or an attacker sends — control characters
/// in each text field and query parameter, wrong JSON types, malformed JSON, absurd dates, empty and huge bodies, bad
/// credentials. Each answer is a 4xx problem whose detail says what was wrong without naming an internal type, never a
/// 500, and nothing is written. Run in Production and in Development (which report bad requests differently by
/// default), on SQLite and on PostgreSQL (see the derived classes).
/// </summary>
public abstract partial class HostileInputTests(HostileServer server)
{
    protected HostileServer Server { get; } = server;

    public static TheoryData<string> CaseNames => new(Corpus.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Corpus_HostileRequest_A4xxProblemAndNothingWritten(string name)
    {
        var hostile = Corpus.Single(c => c.Name == name);
        var targets = await Server.TargetsAsync();
        var before = await FingerprintAsync();
        using var request = targets.Request(hostile);
        using var client = Server.Client();
        var r = await client.SendAsync(request);
        await AssertProblemAsync(r, hostile.Status, hostile.Names);
        Assert.Equal(before, await FingerprintAsync());
    }

    /// <summary>What the HTTP client will not send: bytes Kestrel refuses before the application sees the request.</summary>
    [Theory]
    [InlineData("NUL in the Authorization header", "GET /v1/devices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer lien_\0_x\r\n\r\n")]
    [InlineData("NUL in the path", "GET /v1/devices/\0 HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("an escaped NUL in the path", "DELETE /v1/api-keys/ak%00 HTTP/1.1\r\nHost: x\r\nAuthorization: {admin}\r\n\r\n")]
    [InlineData("an escaped NUL in an id", "GET /v1/payments/%00 HTTP/1.1\r\nHost: x\r\nAuthorization: {admin}\r\n\r\n")]
    [InlineData("an escaped NUL in a lender id", "GET /v1/lenders/%00/keys HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("control character in a header", "GET /v1/devices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u0001\r\n\r\n")]
    [InlineData("a 100 kB header", "GET /v1/devices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {100k}\r\n\r\n")]
    [InlineData("a 100 kB device token", "POST /v1/device/checkin HTTP/1.1\r\nHost: x\r\nAuthorization: Device {100k}\r\nContent-Length: 2\r\n\r\n{}")]
    [InlineData("NUL in a device token", "POST /v1/device/checkin HTTP/1.1\r\nHost: x\r\nAuthorization: Device {token}\0\r\nContent-Length: 2\r\n\r\n{}")]
    [InlineData("NUL inside a device token on the stream", "GET /v1/device/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Device 0\0{token}\r\n\r\n")]
    [InlineData("a Latin-1 byte in a device token", "POST /v1/device/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Device {token}\u00e9\r\nContent-Length: 9\r\n\r\n{\"seq\":1}")]
    [InlineData("UTF-8 bytes in a device token", "POST /v1/device/checkin HTTP/1.1\r\nHost: x\r\nAuthorization: Device {token}\u00c3\u00a9\r\nContent-Length: 2\r\n\r\n{}")]
    [InlineData("non-ASCII in place of the MAC", "GET /v1/device/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Device {token-mac}\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\r\n\r\n")]
    [InlineData("two Authorization headers on check-in", "POST /v1/device/checkin HTTP/1.1\r\nHost: x\r\nAuthorization: Device {token}\r\nAuthorization: Device {token}\r\nContent-Length: 2\r\n\r\n{}")]
    [InlineData("two Authorization headers on the stream", "GET /v1/device/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Device {token}\r\nAuthorization: Device {token}\r\n\r\n")]
    [InlineData("two Authorization headers on ack", "POST /v1/device/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Device {token}\r\nAuthorization: Bearer x\r\nContent-Length: 9\r\n\r\n{\"seq\":1}")]
    public async Task Raw_UnsendableRequest_A4xxNeverA500(string what, string raw)
    {
        var targets = await Server.TargetsAsync();
        var before = await FingerprintAsync();
        var address = Server.Client().BaseAddress!;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        await using var stream = tcp.GetStream();
        raw = raw.Replace("{100k}", new string('a', 100_000), StringComparison.Ordinal)
            .Replace("{admin}", targets.Tenant.Admin.DefaultRequestHeaders.Authorization!.ToString(), StringComparison.Ordinal)
            .Replace("{token-mac}", targets.DeviceToken[..(targets.DeviceToken.LastIndexOf('.') + 1)], StringComparison.Ordinal)
            .Replace("{token}", targets.DeviceToken, StringComparison.Ordinal);
        await stream.WriteAsync(Encoding.Latin1.GetBytes(raw));
        var answer = await ReadResponseAsync(stream);
        var status = int.Parse(answer.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(status is >= 400 and < 500, $"{what}: {answer}");
        // Kestrel refuses some of these itself, with no body; whatever reached the application is a problem.
        if (answer.Contains("Content-Type: application/problem+json", StringComparison.OrdinalIgnoreCase))
            Assert.Contains("\"detail\"", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("Lien.", answer, StringComparison.Ordinal);
        Assert.Equal(before, await FingerprintAsync());
    }

    [Fact]
    public async Task Import_A25MegabyteHeaderLine_RefusedBeforeParsing()
    {
        var targets = await Server.TargetsAsync();
        var body = new byte[25 * 1024 * 1024];
        for (var i = 0; i < body.Length; i += 2) (body[i], body[i + 1]) = ((byte)'x', (byte)',');
        "imei,"u8.CopyTo(body);
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        var before = await FingerprintAsync();
        // A hang guard, not a timing claim: the refusal comes after the first few kilobytes, not after parsing 25 MB.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var r = await targets.Tenant.Admin.PostAsync("/v1/devices/import", content, timeout.Token);
        var p = await AssertProblemAsync(r, 400, null);
        Assert.Contains("Line 1", p.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await FingerprintAsync());
    }

    [Fact]
    public async Task Reasons_MayHoldNewlinesAndTabs_OtherFieldsMayNot()
    {
        var targets = await Server.TargetsAsync();
        var a = targets.Tenant.Admin;
        var code = await (await a.PostAsync($"/v1/devices/{targets.Device}/codes",
            Json("""{"type":"AddTime","days":1,"reason":"Borrower called.\r\nPaid at the shop:\treceipt 12."}"""))).Json(HttpStatusCode.Created);
        Assert.Equal("Borrower called.\r\nPaid at the shop:\treceipt 12.", code.Str("reason"));
        var p = await (await a.PostAsync("/v1/devices", Json($$"""{"imei":"{{LenderApi.NewImei()}}","serial":"SN\t1"}"""))).Problem(HttpStatusCode.BadRequest);
        Assert.True(p.GetProperty("errors").TryGetProperty("serial", out _), p.ToString());
    }

    [Fact]
    public async Task Payment_ReceivedAtWithAnOffset_RecordedAsTheSameInstant()
    {
        var targets = await Server.TargetsAsync();
        var r = await targets.Tenant.Admin.PostAsync("/v1/payments", Json($$"""
            {"planId":"{{targets.Plan}}","amount":100,"currency":"KES","provider":"mpesa","providerTransactionId":"{{Guid.NewGuid():N}}","receivedAt":"2026-02-28T12:00:00+03:00"}
            """));
        var payment = await r.Json(HttpStatusCode.Created);
        Assert.Equal(new DateTimeOffset(2026, 2, 28, 9, 0, 0, TimeSpan.Zero), payment.GetProperty("receivedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Reversal_OfTheLongestTransactionId_RecordedNotA500()
    {
        // The reversal's own id is the payment's with "/reversal" appended, and PostgreSQL holds 128 characters.
        var targets = await Server.TargetsAsync();
        var paid = await (await targets.Tenant.Admin.PayAsync(targets.Plan, 100, new string('t', 119))).Json(HttpStatusCode.Created);
        await (await targets.Tenant.Admin.PostAsync($"/v1/payments/{paid.Id()}/reversal", Json("""{"reason":"wrong account"}"""))).Json(HttpStatusCode.Created);
        var p = await (await targets.Tenant.Admin.PayAsync(targets.Plan, 100, new string('t', 120))).Problem(HttpStatusCode.BadRequest);
        Assert.True(p.GetProperty("errors").TryGetProperty("providerTransactionId", out _), p.ToString());
    }

    /// <summary>Asserts a problem with the status, a detail that names what was wrong and no internal names; returns it.</summary>
    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage r, int status, string? names)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True((int)r.StatusCode == status, $"expected {status}, got {(int)r.StatusCode}: {text}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var p = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(status, p.GetProperty("status").GetInt32());
        var detail = p.TryGetProperty("detail", out var d) ? d.GetString() : null;
        Assert.False(string.IsNullOrWhiteSpace(detail), text);
        foreach (var leak in new[] { "Lien.", "System.", "   at ", ".cs:line", "Npgsql", "SQLite" })
            Assert.DoesNotContain(leak, text, StringComparison.Ordinal);
        if (names is not null)
        {
            var named = p.TryGetProperty("errors", out var errors) ? errors.EnumerateObject().Select(e => e.Name).ToList() : [];
            Assert.True(named.Contains(names, StringComparer.Ordinal) || detail!.Contains(names, StringComparison.OrdinalIgnoreCase),
                $"the problem should name {names}: {text}");
        }
        return p;
    }

    private static async Task<string> ReadResponseAsync(NetworkStream stream)
    {
        var buffer = new byte[64 * 1024];
        var text = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            int n;
            try { n = await stream.ReadAsync(buffer, timeout.Token); }
            catch (IOException) { break; } // Kestrel may reset the connection after refusing
            if (n == 0) break;
            text.Append(Encoding.Latin1.GetString(buffer, 0, n));
            var s = text.ToString();
            var end = s.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0) continue;
            var length = s.Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) is { } h
                ? int.Parse(h["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture) : 0;
            if (s.Length >= end + 4 + length) break;
        }
        return text.ToString();
    }

    /// <summary>Everything a refused request might have written, for before-and-after comparison.</summary>
    private Task<string> FingerprintAsync() => Server.WithDbAsync(async db => string.Join(" ",
        await db.AuditEvents.CountAsync(), await db.Devices.CountAsync(), await db.DeviceImeis.CountAsync(), await db.Plans.CountAsync(),
        await db.Payments.CountAsync(), await db.IssuedCodes.CountAsync(), await db.ApiKeys.CountAsync(), await db.Leases.CountAsync(),
        await db.LenderKeys.CountAsync(), await db.Set<Lien.Server.Certificates.PayoffCertificate>().CountAsync(), await db.Devices.CountAsync(d => d.PushToken != null), await db.Devices.SumAsync(d => d.AppliedSeq),
        await db.Devices.SumAsync(d => d.TokenEpoch), await db.WebhookEndpoints.CountAsync(), await db.WebhookMessages.CountAsync(),
        await db.SmsMessages.CountAsync(), await db.NoticeTemplates.CountAsync(), string.Join("|", await db.Lenders.OrderBy(l => l.Id)
            .Select(l => l.Name + l.LogoUrl + l.SupportPhone + l.ShortCode + l.SupportUrl + l.TimeZone + l.Currency + l.PolicyProfile + (l.SettlementHoldHours == null ? "" : l.SettlementHoldHours.ToString()))
            .ToListAsync())));

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    // ---------------------------------------------------------------------------------------------------------------
    // The corpus. Placeholders filled in per server: {device}, {plan}, {payment}, {lender}, {reference} (the plan's),
    // {imei} (a fresh valid IMEI), {enrolled} (the enrolled device's IMEI), {key} (a P-256 public key), {challenge} (an
    // enrollment challenge) and {now} (the server's time then, unix seconds).

    private static readonly (string Key, string Json)[] DeviceBody =
        [("imei", "\"{imei}\""), ("serial", "\"SN1\""), ("make", "\"Tecno\""), ("model", "\"Spark\"")];
    private static readonly (string Key, string Json)[] PlanBody =
        [("deviceId", "\"{device}\""), ("borrowerReference", "\"cust-1\""), ("price", "30000"), ("downPayment", "0"), ("currency", "\"KES\""),
         ("generate", """{"count":3,"frequency":"Monthly","firstDueDate":"2026-04-01"}""")];
    private static readonly (string Key, string Json)[] PaymentBody =
        [("planId", "\"{plan}\""), ("amount", "100"), ("currency", "\"KES\""), ("provider", "\"mpesa\""), ("providerTransactionId", "\"hostile-1\"")];
    private static readonly (string Key, string Json)[] PaymentByReferenceBody = [.. PaymentBody.Where(f => f.Key != "planId"), ("planReference", "\"LN-ABC123\"")];
    private static readonly (string Key, string Json)[] InstallmentPlanBody =
        [.. PlanBody.Where(f => f.Key != "generate"), ("installments", """[{"dueDate":"2026-04-01","amount":30000}]""")];
    private static readonly (string Key, string Json)[] ReversalBody = [("reason", "\"provider reversed\""), ("providerTransactionId", "\"rev-1\"")];
    private static readonly (string Key, string Json)[] CancelBody = [("reason", "\"borrower returned the phone\"")];
    private static readonly (string Key, string Json)[] DisputeBody = [("kind", "\"Paid\""), ("transactionReference", "\"QK7 1\""), ("text", "\"I paid at the shop\"")];
    private static readonly (string Key, string Json)[] PromiseBody = [("until", "\"2026-03-05\""), ("reason", "\"salary on Thursday\"")];
    private static readonly (string Key, string Json)[] GoodwillBody = [("hours", "6"), ("reason", "\"hospital visit\"")];
    private static readonly (string Key, string Json)[] PolicyBody = [("policyProfile", "\"custom\""), ("policy", "{\"graceDays\":5}")];
    private static readonly (string Key, string Json)[] CodeBody = [("type", "\"AddTime\""), ("days", "1"), ("reason", "\"call centre\"")];
    private static readonly (string Key, string Json)[] ApiKeyBody = [("name", "\"ops\""), ("role", "\"Viewer\"")];
    private static readonly (string Key, string Json)[] ConsoleUserBody = [("userName", "\"amina\""), ("role", "\"viewer\"")];
    private static readonly (string Key, string Json)[] EnrollBody =
        [("imeis", "[\"{enrolled}\"]"), ("publicKey", "\"{key}\""), ("signedAt", "{now}"), ("nonce", "\"bm9uY2Utb2YtMTYtYnl0ZXM\""),
         ("challenge", "\"{challenge}\""), ("signature", "\"AAAA\"")];

    private static readonly (string Key, string Json)[] WebhookEndpointBody =
        [("url", "\"https://example.com/hooks\""), ("description", "\"ledger\""), ("eventTypes", "[\"payment.recorded\"]")];
    private static readonly (string Key, string Json)[] NoticeTemplateBody = [("text", "\"{lender}: pay {amount}\"")];

    private static readonly (string Key, string Json)[] RenewBody = [("deviceId", "\"{device}\""), ("signedAt", "1772355600"), ("signature", "\"AAAA\"")];

    // After the bodies it is built from: static fields are initialized in order (in this file: keep them here).
    public static readonly IReadOnlyList<HostileRequest> Corpus = BuildCorpus();

    private static string Body((string Key, string Json)[] fields, string key, string? json) =>
        "{" + string.Join(",", fields.Where(f => f.Key != key).Concat(json is null ? [] : [(key, json)]).Select(f => $"\"{f.Key}\":{f.Json}")) + "}";

    private static List<HostileRequest> BuildCorpus()
    {
        var c = new List<HostileRequest>();
        void Add(string name, string method, string path, int status, string? body = null, string? names = null, string auth = "admin",
            string contentType = "application/json") =>
            c.Add(new HostileRequest(name, method, path, status, body, names) { Auth = auth, ContentType = contentType });

        // The JSON endpoints and a valid body for each, which a case twists in one field.
        var endpoints = new Dictionary<string, (string Method, string Path, (string Key, string Json)[] Body, string Auth)>
        {
            ["register"] = ("POST", "/v1/devices", DeviceBody, "admin"),
            ["plan"] = ("POST", "/v1/plans", PlanBody, "admin"),
            ["plan with installments"] = ("POST", "/v1/plans", InstallmentPlanBody, "admin"),
            ["cancel"] = ("POST", "/v1/plans/{plan}/cancel", CancelBody, "admin"),
            ["payment"] = ("POST", "/v1/payments", PaymentBody, "admin"),
            ["payment by reference"] = ("POST", "/v1/payments", PaymentByReferenceBody, "admin"),
            ["reversal"] = ("POST", "/v1/payments/{payment}/reversal", ReversalBody, "admin"),
            ["code"] = ("POST", "/v1/devices/{device}/codes", CodeBody, "admin"),
            ["api key"] = ("POST", "/v1/api-keys", ApiKeyBody, "admin"),
            ["lender settings"] = ("PATCH", "/v1/lender", [], "admin"),
            ["enroll"] = ("POST", "/v1/device/enroll", EnrollBody, "none"),
            ["check-in"] = ("POST", "/v1/device/checkin", [("appliedSeq", "1")], "device"),
            ["ack"] = ("POST", "/v1/device/ack", [("seq", "1")], "device"),
            ["renew"] = ("POST", "/v1/device/renew", RenewBody, "none"),
            ["certificate verify"] = ("POST", "/v1/certificates/verify", [("jws", "\"a.b.c\"")], "none"),
            ["webhook endpoint"] = ("POST", "/v1/webhooks/endpoints", WebhookEndpointBody, "admin"),
            ["notice template"] = ("PUT", "/v1/notice-templates/en/overdue", NoticeTemplateBody, "admin"),
            ["dispute"] = ("POST", "/v1/plans/{plan}/disputes", DisputeBody, "admin"),
            ["device dispute"] = ("POST", "/v1/device/dispute", DisputeBody, "device"),
            ["resolve"] = ("POST", "/v1/disputes/{plan}/resolve", CancelBody, "admin"),
            ["promise"] = ("POST", "/v1/plans/{plan}/promise-to-pay", PromiseBody, "admin"),
            ["goodwill"] = ("POST", "/v1/devices/{device}/goodwill-unlock", GoodwillBody, "admin"),
            ["lock now"] = ("POST", "/v1/devices/{device}/lock", CancelBody, "admin"),
            ["release early"] = ("POST", "/v1/devices/{device}/release", CancelBody, "admin"),
            ["repossess"] = ("POST", "/v1/devices/{device}/repossess", CancelBody, "admin"),
            ["restock"] = ("POST", "/v1/devices/{device}/restock", CancelBody, "admin"),
            ["policy"] = ("PATCH", "/v1/lender", PolicyBody, "admin"),
            ["console user"] = ("POST", "/v1/console/users", ConsoleUserBody, "admin"),
        };
        void Twist(string endpoint, string what, string key, string? json, string? names = null)
        {
            var (method, path, body, auth) = endpoints[endpoint];
            Add($"{endpoint}: {what}", method, path, 400, Body(body, key, json), names ?? key, auth);
        }

        // Control characters in every text field: NUL (PostgreSQL cannot store it), ESC, DEL, an unpaired surrogate and,
        // in single-line fields, a newline and a tab. Reasons are free text and may hold newlines and tabs.
        var bad = new[] { ("NUL", "\\u0000"), ("ESC", "\\u001b"), ("DEL", "\\u007f"), ("unpaired surrogate", "\\ud800") };
        var singleLine = new[] { ("newline", "\\n"), ("tab", "\\t") };
        foreach (var (endpoint, field, lines) in new[]
                 {
                     ("register", "imei", false), ("register", "imei2", false), ("register", "serial", false), ("register", "make", false),
                     ("register", "model", false), ("plan", "borrowerReference", false), ("plan", "currency", false), ("cancel", "reason", true),
                     ("payment", "provider", false), ("payment", "providerTransactionId", false), ("payment", "currency", false), ("payment by reference", "planReference", false),
                     ("reversal", "reason", true), ("reversal", "providerTransactionId", false), ("code", "reason", true), ("api key", "name", false),
                     ("enroll", "publicKey", false), ("enroll", "signature", false), ("check-in", "pushToken", false),
                     ("plan", "borrowerPhone", false), ("webhook endpoint", "url", false), ("webhook endpoint", "description", false),
                     ("notice template", "text", true),
                     ("dispute", "transactionReference", false), ("dispute", "text", true), ("device dispute", "transactionReference", false),
                     ("device dispute", "text", true), ("resolve", "reason", true), ("promise", "reason", true), ("goodwill", "reason", true),
                     ("lock now", "reason", true), ("release early", "reason", true), ("repossess", "reason", true), ("restock", "reason", true),
                     ("console user", "userName", false),
                 })
            foreach (var (what, escape) in lines ? bad : bad.Concat(singleLine))
                Twist(endpoint, $"{what} in {field}", field, field is "imei" or "imei2" ? $"\"3541{escape}0000000000\"" : $"\"ab{escape}cd\"");
        foreach (var field in new[] { "name", "logoUrl", "supportPhone", "shortCode", "supportUrl", "timeZone", "currency", "policyProfile" })
            foreach (var (what, escape) in bad.Concat(singleLine))
                Twist("lender settings", $"{what} in {field}", field, $"\"{(field.EndsWith("Url", StringComparison.Ordinal) ? "https://example.com/" : "Africa/")}{escape}x\"");
        foreach (var (what, escape) in bad)
            Twist("enroll", $"{what} in an IMEI", "imeis", $"[\"35{escape}\"]");

        // Control characters in query parameters and path segments.
        foreach (var (what, escape) in new[] { ("NUL", "%00"), ("ESC", "%1B"), ("newline", "%0A") })
        {
            Add($"device search: {what}", "GET", $"/v1/devices?search=35{escape}", 400, names: "search");
            Add($"device status: {what}", "GET", $"/v1/devices?status=locked{escape}", 400, names: "status");
            Add($"device cursor: {what}", "GET", $"/v1/devices?after=0195{escape}", 400, names: "after");
            Add($"plan cursor: {what}", "GET", $"/v1/plans?after={escape}", 400, names: "after");
            Add($"audit subject: {what}", "GET", $"/v1/audit?subject=device%3A{escape}", 400, names: "subject");
            if (what != "NUL") Add($"revoke API key: {what} in the id", "DELETE", $"/v1/api-keys/ak{escape}", 400, names: "id");
        }
        Add("device search: too long", "GET", "/v1/devices?search=" + new string('3', 5000), 400, names: "search");
        Add("audit subject: too long", "GET", "/v1/audit?subject=" + new string('d', 5000), 400, names: "subject");
        Add("revoke API key: too long an id", "DELETE", "/v1/api-keys/" + new string('a', 2000), 400, names: "id");

        // Query parameters of the wrong form.
        Add("device list: limit not a number", "GET", "/v1/devices?limit=ten", 400, names: "limit");
        Add("device list: limit beyond int", "GET", "/v1/devices?limit=99999999999", 400, names: "limit");
        Add("plan list: unknown lifecycle", "GET", "/v1/plans?lifecycle=Sideways", 400, names: "lifecycle");
        Add("plan list: lifecycle as a number", "GET", "/v1/plans?lifecycle=7", 400, names: "lifecycle");
        Add("plan list: deviceId not a UUID", "GET", "/v1/plans?deviceId=nope", 400, names: "deviceId");
        Add("audit: after not a number", "GET", "/v1/audit?after=x", 400, names: "after");
        Add("audit: limit as a fraction", "GET", "/v1/audit?limit=1.5", 400, names: "limit");
        Add("lease history: limit not a number", "GET", "/v1/devices/{device}/leases?limit=x", 400, names: "limit");
        Add("stream: appliedSeq not a number", "GET", "/v1/device/stream?appliedSeq=x", 400, names: "appliedSeq", auth: "device");
        Add("device by id: not a UUID", "GET", "/v1/devices/not-a-guid", 404);
        Add("plan by id: not a UUID", "GET", "/v1/plans/not-a-guid", 404);
        Add("payment by id: not a UUID", "GET", "/v1/payments/12", 404);
        Add("lender keys: not a UUID", "GET", "/v1/lenders/x/keys", 404, auth: "none");
        Add("no such route", "GET", "/v1/nothing-here", 404);
        Add("console user: unknown role", "POST", "/v1/console/users", 400, """{"userName":"amina","role":"owner"}""", "role");
        Add("console user: role as a number", "POST", "/v1/console/users", 400, """{"userName":"amina","role":3}""", "role");
        Add("console user: a space in the name", "POST", "/v1/console/users", 400, """{"userName":"a mina","role":"viewer"}""", "userName");
        Add("wrong method", "PUT", "/v1/devices", 405, "{}");

        // Wrong JSON types: numbers are numbers, strings are strings, enums are names.
        foreach (var (endpoint, what, key, json, names) in new (string, string, string, string?, string?)[]
                 {
                     ("payment", "amount as a string", "amount", "\"100\"", null), ("payment", "amount as a fraction", "amount", "1.5", null),
                     ("payment", "amount as a boolean", "amount", "true", null), ("payment", "amount 1e400", "amount", "1e400", null),
                     ("payment", "amount beyond long", "amount", "92233720368547758070", null), ("payment", "amount as an object", "amount", """{"value":100}""", null),
                     ("payment", "planId as a number", "planId", "5", null), ("payment", "planId not a UUID", "planId", "\"plan-1\"", null),
                     ("payment", "provider as a number", "provider", "7", null), ("payment", "provider as an array", "provider", "[\"mpesa\"]", null),
                     ("plan", "deviceId as a number", "deviceId", "5", null), ("plan", "price as a string", "price", "\"30000\"", null),
                     ("plan", "price as a fraction", "price", "300.5", null),
                     ("plan", "unknown frequency", "generate", """{"count":3,"frequency":"Fortnightly","firstDueDate":"2026-04-01"}""", "generate.frequency"),
                     ("plan", "frequency as a number", "generate", """{"count":3,"frequency":1,"firstDueDate":"2026-04-01"}""", "generate.frequency"),
                     ("plan", "count as a string", "generate", """{"count":"3","frequency":"Monthly","firstDueDate":"2026-04-01"}""", "generate.count"),
                     ("plan", "firstDueDate as a number", "generate", """{"count":3,"frequency":"Monthly","firstDueDate":20260401}""", "generate.firstDueDate"),
                     ("plan", "firstDueDate 30 February", "generate", """{"count":3,"frequency":"Monthly","firstDueDate":"2026-02-30"}""", "generate.firstDueDate"),
                     ("plan with installments", "installments as an object", "installments", "{}", null),
                     ("plan with installments", "installment amount as a string", "installments", """[{"dueDate":"2026-04-01","amount":"30000"}]""", "installments[0].amount"),
                     ("register", "imei as a number", "imei", "354100000000000", null), ("register", "serial as a boolean", "serial", "true", null),
                     ("code", "unknown type", "type", "\"Unlock\"", null), ("code", "type as a number", "type", "0", null),
                     ("code", "days as a string", "days", "\"3\"", null), ("code", "days as a fraction", "days", "1.5", null),
                     ("cancel", "reason as a number", "reason", "5", null), ("reversal", "reason as an object", "reason", "{}", null),
                     ("lender settings", "offlineAllowanceHours as a string", "offlineAllowanceHours", "\"72\"", null),
                     ("lender settings", "codeRestrictedDigitSet as a string", "codeRestrictedDigitSet", "\"yes\"", null),
                     ("lender settings", "name as a number", "name", "42", null),
                     ("api key", "role as a number", "role", "2", null), ("api key", "unknown role", "role", "\"Root\"", null),
                     ("enroll", "imeis as a string", "imeis", "\"{enrolled}\"", null), ("enroll", "an IMEI as a number", "imeis", "[354100000000000]", "imeis[0]"),
                     ("enroll", "an IMEI null", "imeis", "[null]", null), ("enroll", "signedAt as a string", "signedAt", "\"1770000000\"", null),
                     ("enroll", "signedAt 1e400", "signedAt", "1e400", null),
                     ("enroll", "a thousand IMEIs", "imeis", "[" + string.Join(",", Enumerable.Repeat("\"{enrolled}\"", 1000)) + "]", null),
                     ("enroll", "publicKey not a key", "publicKey", "\"" + Convert.ToBase64String(new byte[300]) + "\"", null),
                     ("check-in", "appliedSeq as a string", "appliedSeq", "\"1\"", null),
                     ("check-in", "pushToken too long", "pushToken", "\"" + new string('f', 5000) + "\"", null),
                     ("check-in", "wrongCodes negative", "wrongCodes", "-1", null), ("check-in", "wrongCodes above a million", "wrongCodes", "1000001", null),
                     ("check-in", "wrongCodes beyond int", "wrongCodes", "99999999999", null), ("check-in", "wrongCodes as a string", "wrongCodes", "\"3\"", null),
                     ("ack", "seq as a string", "seq", "\"1\"", null), ("ack", "seq as a fraction", "seq", "1.5", null),
                     ("dispute", "unknown kind", "kind", "\"Angry\"", null), ("dispute", "kind as a number", "kind", "0", null),
                     ("dispute", "a 1 MB text", "text", "\"" + new string('t', 1_000_000) + "\"", null),
                     ("device dispute", "kind as an array", "kind", "[\"Paid\"]", null), ("device dispute", "no kind", "kind", null, null),
                     ("device dispute", "Paid without a transaction", "transactionReference", null, null),
                     ("promise", "until 01/11/2026", "until", "\"01/11/2026\"", null), ("promise", "until as a number", "until", "20260305", null),
                     ("promise", "no reason", "reason", null, null),
                     ("goodwill", "hours as a string", "hours", "\"6\"", null), ("goodwill", "hours as a fraction", "hours", "1.5", null),
                     ("goodwill", "hours zero", "hours", "0", null), ("lock now", "no reason", "reason", null, null),
                     ("release early", "empty reason", "reason", "\"\"", null),
                     ("policy", "graceDays 0", "policy", "{\"graceDays\":0}", "policy.graceDays"),
                     ("policy", "graceDays as a string", "policy", "{\"graceDays\":\"5\"}", "policy.graceDays"),
                     ("policy", "a lock window of 2 hours", "policy", "{\"lockWindow\":{\"startHour\":9,\"endHour\":11}}", "policy.lockWindow"),
                     ("policy", "an unknown day", "policy", "{\"lockWindow\":{\"days\":[\"Funday\"]}}", "policy.lockWindow.days[0]"),
                     ("policy", "lock warning 1 hour", "policy", "{\"lockWarningHours\":1}", "policy.lockWarningHours"),
                     ("policy", "overrides without the profile", "policyProfile", null, "policy"),
                     ("policy", "rbi-2026 with 30 days", "policyProfile", "\"rbi-2026\"", "policy.graceDays"),
                 })
            Twist(endpoint, what, key, json, names);

        // Malformed bodies: not JSON, not an object, truncated, too deep, empty, huge.
        foreach (var endpoint in new[] { "register", "plan", "payment", "enroll", "ack", "renew", "api key", "webhook endpoint", "notice template", "device dispute", "dispute", "promise" })
            foreach (var (what, status, body, contentType) in new[]
                     {
                         ("truncated JSON", 400, "{\"a\":", "application/json"), ("not JSON", 400, "imei=35", "application/json"),
                         ("single quotes", 400, "{'imei':'35'}", "application/json"), ("trailing comma", 400, "{\"imei\":\"35\",}", "application/json"),
                         ("a raw NUL in a string", 400, "{\"imei\":\"3\u00005\"}", "application/json"), ("an array", 400, "[]", "application/json"),
                         ("a string", 400, "\"x\"", "application/json"), ("null", 400, "null", "application/json"), ("empty body", 400, "", "application/json"),
                         ("whitespace body", 400, "  \n ", "application/json"),
                         ("nested 10000 deep", 400, "{\"x\":" + new string('[', 10_000) + new string(']', 10_000) + "}", "application/json"),
                         ("plain text", 415, "imei=35", "text/plain"), ("no content type", 415, "{}", ""),
                         ("a 31 MB body", 413, "{\"x\":\"{31MB}\"}", "application/json"),
                     })
            {
                var (method, path, _, auth) = endpoints[endpoint];
                Add($"{endpoint}: {what}", method, path, status, body, auth: auth, contentType: contentType);
            }
        Add("payment: duplicate amount", "POST", "/v1/payments", 400, Body(PaymentBody, "amount", "100")[..^1] + ",\"amount\":1}", "amount");
        c.Add(new HostileRequest("payment: invalid UTF-8", "POST", "/v1/payments", 400, Body(PaymentBody, "provider", "\"mp\u00ffesa\""), null) { Latin1 = true });
        Add("register: a 1 MB serial", "POST", "/v1/devices", 400, Body(DeviceBody, "serial", "\"" + new string('s', 1_000_000) + "\""), "serial");

        // CSV imports: refused as a whole, before parsing, when the text is not a device CSV.
        void Csv(string name, int status, string body, bool latin1 = false, string auth = "admin") =>
            c.Add(new HostileRequest($"import: {name}", "POST", "/v1/devices/import", status, body, null) { Auth = auth, ContentType = "text/csv", Latin1 = latin1 });
        Csv("empty body", 400, "");
        Csv("only blank lines", 400, "\n\n\r\n");
        Csv("no imei column", 400, "serial,make\nS1,Tecno\n");
        Csv("NUL in a field", 400, "imei,serial\n{imei},S\u00001\n");
        Csv("ESC in the header", 400, "imei,ser\u001bial\n{imei},S1\n");
        Csv("a 2000-character line", 400, "imei,serial\n{imei}," + new string('s', 2000) + "\n");
        Csv("a 2000-character header", 400, "imei," + string.Concat(Enumerable.Repeat("x,", 1000)) + "\n{imei}\n");
        Csv("an unterminated quote over many short lines", 400, "imei,serial\n{imei},\"" + string.Concat(Enumerable.Repeat("abcdefgh\n", 5000)));
        Csv("a UTF-16 file", 400, "i\0m\0e\0i\0\n\0", latin1: true);
        Csv("a PNG", 400, "\u0089PNG\r\n\u001a\n\0\0\0\rIHDR", latin1: true);
        Csv("too many rows", 413, "imei\n" + string.Concat(Enumerable.Repeat("{imei}\n", 10_001)));
        Csv("a 31 MB body", 413, "imei,serial\n{31MB}");
        Csv("with no key", 401, "imei\n{imei}\n", auth: "none");
        Csv("by a viewer", 403, "imei\n{imei}\n", auth: "viewer");

        // Dates: checked against a sane range (2000-01-01 to 2100-12-31) before any arithmetic.
        foreach (var (what, generate, field) in new[]
                 {
                     ("9999-06-01, 12 monthly", """{"count":12,"frequency":"Monthly","firstDueDate":"9999-06-01"}""", "generate.firstDueDate"),
                     ("9999-12-31, 2 daily", """{"count":2,"frequency":"Daily","firstDueDate":"9999-12-31"}""", "generate.firstDueDate"),
                     ("9999-12-25, 2 weekly", """{"count":2,"frequency":"Weekly","firstDueDate":"9999-12-25"}""", "generate.firstDueDate"),
                     ("0001-01-01", """{"count":3,"frequency":"Monthly","firstDueDate":"0001-01-01"}""", "generate.firstDueDate"),
                     ("1999-12-31", """{"count":3,"frequency":"Monthly","firstDueDate":"1999-12-31"}""", "generate.firstDueDate"),
                     ("2101-01-01", """{"count":3,"frequency":"Monthly","firstDueDate":"2101-01-01"}""", "generate.firstDueDate"),
                     ("2100-06-01, running past 2100", """{"count":12,"frequency":"Monthly","firstDueDate":"2100-06-01"}""", "generate"),
                     ("2026-04-01, 1000 monthly past 2100", """{"count":1000,"frequency":"Monthly","firstDueDate":"2026-04-01"}""", "generate"),
                     ("2026-04-01, 1001 daily", """{"count":1001,"frequency":"Daily","firstDueDate":"2026-04-01"}""", "generate.count"),
                 })
            Twist("plan", $"generated from {what}", "generate", generate, field);
        foreach (var date in new[] { "9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01" })
            Twist("plan with installments", $"an installment due {date}", "installments", $"[{{\"dueDate\":\"{date}\",\"amount\":30000}}]", "installments[0].dueDate");
        // ISO 8601 dates only (yyyy-MM-dd): a date written another way is refused and the answer says the format, never guessed.
        foreach (var date in new[] { "01/11/2026", "11/01/2026", "2026-1-5", "2026-11-01T00:00", "2026/11/01", "1 Nov 2026", "20261101", " 2026-11-01" })
        {
            Twist("plan", $"firstDueDate {date}", "generate", $$"""{"count":3,"frequency":"Monthly","firstDueDate":"{{date}}"}""", "generate.firstDueDate");
            Twist("plan with installments", $"dueDate {date}", "installments", $$"""[{"dueDate":"{{date}}","amount":30000}]""", "installments[0].dueDate");
        }
        Twist("plan", "backdated as a string", "backdated", "\"yes\"");
        Twist("plan", "backdated as a number", "backdated", "1");
        Twist("lender settings", "settlementHoldHours as a string", "settlementHoldHours", "\"72\"");
        Twist("lender settings", "settlementHoldHours negative", "settlementHoldHours", "-1");
        Twist("lender settings", "settlementHoldHours above 14 days", "settlementHoldHours", "337");
        Twist("lender settings", "settlementHoldHours as a fraction", "settlementHoldHours", "1.5");
        foreach (var at in new[] { "\"0001-01-01\"", "\"0001-01-01T00:00:00Z\"", "\"0001-01-01T00:00:00+14:00\"", "\"1999-12-31T23:59:59Z\"",
                     "\"9999-12-31T23:59:59Z\"", "\"9999-12-31T23:59:59-14:00\"", "\"2026-02-30T00:00:00Z\"", "\"yesterday\"", "\"\"", "1772355600" })
            Twist("payment", $"receivedAt {at}", "receivedAt", at);

        // The public lien check and certificates: no key, the IMEI or JWS checked before anything is read.
        foreach (var (what, imei) in new[]
                 {
                     ("NUL", "35%0041000000000"), ("ESC", "%1B"), ("newline", "35410000000000%0A"), ("letters", "35410000000000A"),
                     ("14 digits", "35410000000000"), ("16 digits", "3541000000000000"), ("a failed Luhn check", "354100000000001"),
                     ("5000 digits", new string('3', 5000)), ("empty", ""), ("a negative number", "-35410000000000"),
                     ("full-width digits", "%EF%BC%93" + new string('5', 14)),
                 })
            Add($"lien check: {what}", "GET", $"/v1/lien-check?imei={imei}", 400, names: "imei", auth: "none");
        Add("lien check: no imei", "GET", "/v1/lien-check", 400, names: "imei", auth: "none");
        Twist("certificate verify", "NUL in jws", "jws", "\"ab\\u0000cd\"");
        Twist("certificate verify", "jws as a number", "jws", "5");
        Twist("certificate verify", "jws missing", "jws", null);
        Twist("certificate verify", "a 100 kB jws", "jws", "\"" + new string('a', 100_000) + "\"");
        Add("certificate by id: not a UUID", "GET", "/v1/certificates/x", 404, auth: "none");
        Add("plan certificate with no key", "GET", "/v1/plans/{plan}/certificate", 401, auth: "none");
        Add("plan certificate of a plan not paid off", "GET", "/v1/plans/{plan}/certificate", 404);

        // Credentials: malformed, foreign, too weak, too long.
        foreach (var (what, header) in new[]
                 {
                     ("Bearer garbage", "Bearer garbage"), ("an empty Bearer", "Bearer "), ("a device token", "Device 0000.1.B"),
                     ("Basic", "Basic Zm9vOmJhcg=="), ("a well-formed unknown key", "Bearer lien_ak000000000000_" + new string('0', 64)),
                     ("a long Bearer", "Bearer " + new string('a', 16_000)), ("lowercase bearer", "bearer lien_x"),
                 })
        {
            Add($"device list with {what}", "GET", "/v1/devices", 401, auth: "header:" + header);
            Add($"payment with {what}", "POST", "/v1/payments", 401, Body(PaymentBody, "amount", "\"100\""), auth: "header:" + header);
        }
        Add("lender settings with no key", "PATCH", "/v1/lender", 401, """{"name":"x"}""", auth: "none");
        Add("key rotation with no key", "POST", "/v1/lender/keys/rotate", 401, auth: "none");
        Add("key rotation by a viewer", "POST", "/v1/lender/keys/rotate", 403, auth: "viewer");
        Add("key revocation with no key", "POST", "/v1/lender/keys/lk0000000000000000/revoke", 401, auth: "none");
        Add("key revocation by a viewer", "POST", "/v1/lender/keys/lk0000000000000000/revoke", 403, auth: "viewer");
        Add("key revocation of a kid too long", "POST", $"/v1/lender/keys/{new string('k', 41)}/revoke", 400);
        Add("key revocation of an unknown kid", "POST", "/v1/lender/keys/lk0000000000000000/revoke", 404);
        Add("key set of no lender", "GET", $"/v1/lenders/{Guid.Empty}/keyset", 404, auth: "none");
        Add("lender settings by a viewer", "PATCH", "/v1/lender", 403, """{"name":"x"}""", auth: "viewer");
        Add("payment by a viewer", "POST", "/v1/payments", 403, Body(PaymentBody, "amount", "100"), auth: "viewer");
        Add("API keys listed by a viewer", "GET", "/v1/api-keys", 403, auth: "viewer");
        Add("audit with no key", "GET", "/v1/audit", 401, auth: "none");
        Add("audit verify with a device token", "GET", "/v1/audit/verify", 401, auth: "device");
        foreach (var (what, header) in new[]
                 {
                     ("no token", null), ("a malformed token", "Device 0000.1.B"), ("a Bearer key", "Bearer garbage"),
                     ("a long token", "Device " + new string('a', 16_000)), ("a tampered token", "Device {token}x"),
                     ("a token of the wrong shape", "Device 0195f0a0a0a0a0a0a0a0a0a0a0a0a0a0.-1.AAAAAAAAAAAAAAAAAAAAAA"),
                 })
        {
            var auth = header is null ? "none" : "header:" + header;
            Add($"check-in with {what}", "POST", "/v1/device/checkin", 401, """{"appliedSeq":1}""", auth: auth);
            Add($"ack with {what}", "POST", "/v1/device/ack", 401, """{"seq":1}""", auth: auth);
            Add($"stream with {what}", "GET", "/v1/device/stream", 401, auth: auth);
        }
        DeviceCases(Add, Twist);
        return c;
    }
}

/// <summary>One hostile request of the corpus, and the status it must get.</summary>
public sealed record HostileRequest(string Name, string Method, string Path, int Status, string? Body, string? Names)
{
    /// <summary>admin, viewer, device (the enrolled device's token), none, or header:{an Authorization value}.</summary>
    public string Auth { get; init; } = "admin";
    public string ContentType { get; init; } = "application/json";

    /// <summary>The body is sent as Latin-1 bytes, so a character above U+007F is a byte that is not UTF-8.</summary>
    public bool Latin1 { get; init; }
}

/// <summary>
/// The server in a named environment (Production or Development, which differ in how ASP.NET Core reports bad requests),
/// with one lender, an enrolled device, a plan and a payment for the corpus to aim at.
/// </summary>
public abstract class HostileServer(Store store, string environment) : LienServer(store)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private CorpusTargets? _targets;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseEnvironment(environment);
    }

    public async Task<CorpusTargets> TargetsAsync()
    {
        await _gate.WaitAsync();
        try
        {
            return _targets ??= await CorpusTargets.CreateAsync(this);
        }
        finally
        {
            _gate.Release();
        }
    }
}

/// <summary>What the corpus aims at, and how a <see cref="HostileRequest"/> becomes an HTTP request against it.</summary>
public sealed record CorpusTargets(Tenant Tenant, HttpClient Viewer, Guid Device, string DeviceToken, string EnrolledImei, Guid Plan, Guid Payment, Guid Lender,
    EnrollmentChallenge Challenge)
{
    private static readonly string PublicKey = Convert.ToBase64String(ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfo());

    public static async Task<CorpusTargets> CreateAsync(LienServer server)
    {
        var tenant = await server.NewLenderAsync();
        var imei = LenderApi.NewImei();
        var device = (await tenant.Admin.RegisterAsync(imei)).Id();
        var enrolled = await server.Client().EnrollAsync(imei);
        var plan = (await tenant.Admin.PlanAsync(device, server.Today.AddDays(10))).Id();
        var payment = (await (await tenant.Admin.PayAsync(plan, 10_00)).Json(HttpStatusCode.Created)).Id();
        return new CorpusTargets(tenant, await tenant.KeyAsync("Viewer", server), device, enrolled.DeviceToken, imei, plan, payment, tenant.LenderId,
            await server.Client().ChallengeAsync());
    }

    public HttpRequestMessage Request(HostileRequest h)
    {
        var request = new HttpRequestMessage(new HttpMethod(h.Method), Fill(h.Path));
        if (h.Body is not null)
        {
            var content = new ByteArrayContent((h.Latin1 ? Encoding.Latin1 : Encoding.UTF8).GetBytes(Fill(h.Body)));
            if (h.ContentType.Length > 0) content.Headers.ContentType = new MediaTypeHeaderValue(h.ContentType) { CharSet = "utf-8" };
            request.Content = content;
            // A body the server refuses unread: wait for its answer instead of writing into a closed connection.
            if (content.Headers.ContentLength > 1_000_000) request.Headers.ExpectContinue = true;
        }
        switch (h.Auth)
        {
            case "admin": request.Headers.TryAddWithoutValidation("Authorization", Tenant.Admin.DefaultRequestHeaders.Authorization!.ToString()); break;
            case "viewer": request.Headers.TryAddWithoutValidation("Authorization", Viewer.DefaultRequestHeaders.Authorization!.ToString()); break;
            case "device": request.Headers.TryAddWithoutValidation("Authorization", "Device " + DeviceToken); break;
            case "none": break;
            default: request.Headers.TryAddWithoutValidation("Authorization", Fill(h.Auth["header:".Length..])); break;
        }
        return request;
    }

    private string Fill(string s) => s.Contains('{', StringComparison.Ordinal)
        ? s.Replace("{device}", Device.ToString(), StringComparison.Ordinal).Replace("{plan}", Plan.ToString(), StringComparison.Ordinal)
            .Replace("{payment}", Payment.ToString(), StringComparison.Ordinal).Replace("{lender}", Lender.ToString(), StringComparison.Ordinal)
            .Replace("{imei}", LenderApi.NewImei(), StringComparison.Ordinal).Replace("{enrolled}", EnrolledImei, StringComparison.Ordinal)
            .Replace("{key}", PublicKey, StringComparison.Ordinal).Replace("{token-1}", DeviceToken[..^1], StringComparison.Ordinal)
            .Replace("{token}", DeviceToken, StringComparison.Ordinal).Replace("{device:N}", Device.ToString("N"), StringComparison.Ordinal)
            .Replace("{challenge}", Challenge.Challenge, StringComparison.Ordinal)
            .Replace("{now}", Challenge.ServerTime.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{31MB}", new string('a', 31_000_000), StringComparison.Ordinal)
        : s;
}

public sealed class SqliteProductionServer() : HostileServer(Store.Sqlite, "Production");
public sealed class SqliteDevelopmentServer() : HostileServer(Store.Sqlite, "Development");
public sealed class PostgresProductionServer() : HostileServer(Store.Postgres, "Production");
public sealed class PostgresDevelopmentServer() : HostileServer(Store.Postgres, "Development");

public sealed class SqliteProductionHostileInputTests(SqliteProductionServer server) : HostileInputTests(server), IClassFixture<SqliteProductionServer>;
public sealed class SqliteDevelopmentHostileInputTests(SqliteDevelopmentServer server) : HostileInputTests(server), IClassFixture<SqliteDevelopmentServer>;
public sealed class PostgresProductionHostileInputTests(PostgresProductionServer server) : HostileInputTests(server), IClassFixture<PostgresProductionServer>;
public sealed class PostgresDevelopmentHostileInputTests(PostgresDevelopmentServer server) : HostileInputTests(server), IClassFixture<PostgresDevelopmentServer>;
