using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Lien.Server.Mpesa.Sandbox;

/// <summary>What the sandbox does with an STK push after answering it.</summary>
internal enum SandboxScenario { Paid, Cancelled, TimedOut, Lost, PaidTwice }

/// <summary>
/// A STAND-IN for Safaricom's Daraja — not M-Pesa, and no money moves. It speaks Daraja's documented JSON both ways, so
/// Lien's real client and callbacks are exercised without reaching Safaricom: OAuth (Basic consumer key and secret, a
/// bearer token with <c>expires_in</c>), C2B register URL and simulate (it then posts validation and confirmation to
/// the registered URLs), STK push (checking the password, timestamp, amount and phone; then, after
/// <see cref="CallbackDelay"/>, the callback: paid, 1032 cancelled, 1037 timed out, none at all, or the paid one
/// twice), and the Transaction Status query with its Result callback; errors as <c>{requestId, errorCode, errorMessage}</c>.
/// The scenario is the next one a test queued (<see cref="Next"/>), or chosen by the phone's last four digits: 1032
/// cancelled, 1037 timed out, 0000 lost, 2222 twice; anything else is paid. Mapped only by tests and in demo mode.
/// </summary>
internal sealed partial class DarajaSandbox(TimeProvider time, HttpClient http, ILogger<DarajaSandbox> log)
{
    /// <summary>The demo's app: Daraja's published sandbox paybill and passkey, with made-up consumer credentials.</summary>
    public const string DemoShortCode = "174379";
    public const string DemoPasskey = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919";
    public const string DemoConsumerKey = "lien-demo-consumer-key";
    public const string DemoConsumerSecret = "lien-demo-consumer-secret";

    private sealed record App(string Secret, string ShortCode, string Passkey);
    private sealed record Prompt(string CheckoutId, string MerchantId, string ShortCode, long Amount, string Phone, string CallbackUrl, SandboxScenario Scenario, string Receipt);

    private readonly ConcurrentDictionary<string, App> _apps = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Prompt> _prompts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Confirmation, string Validation)> _registered = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<int>> _delivered = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<SandboxScenario> _next = new();
    private readonly ConcurrentBag<ITimer> _timers = [];

    /// <summary>How long after its answer a callback is sent (the demo: 3 s, as a borrower takes to type the PIN).</summary>
    public TimeSpan CallbackDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a token lasts (Daraja's: an hour).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Every request it refused, and why (a test checks that Lien's were all well formed).</summary>
    public ConcurrentQueue<string> Refusals { get; } = new();

    /// <summary>How many OAuth tokens it issued.</summary>
    public int TokensIssued => _tokensIssued;
    private int _tokensIssued;

    public void AddApp(string consumerKey, string consumerSecret, string shortCode, string passkey) =>
        _apps[consumerKey] = new App(consumerSecret, shortCode, passkey);

    /// <summary>Queues the scenario of the next STK push, whatever its phone.</summary>
    public void Next(SandboxScenario scenario) => _next.Enqueue(scenario);

    /// <summary>Forgets every token: the next call with one is refused as Daraja refuses an expired token.</summary>
    public void ExpireTokens() => _tokens.Clear();

    /// <summary>Completes with the HTTP status Lien answered once the callback(s) of <paramref name="id"/> (a CheckoutRequestID or a query's ConversationID) were sent.</summary>
    public Task<int> DeliveredAsync(string id) => Delivery(id).Task;

    /// <summary>The CheckoutRequestIDs of the STK pushes it took, oldest first.</summary>
    public IReadOnlyList<string> Prompts => _prompts.Values.OrderBy(p => p.CheckoutId, StringComparer.Ordinal).Select(p => p.CheckoutId).ToList();

    public void Map(IEndpointRouteBuilder app, string prefix)
    {
        var g = app.MapGroup(prefix).ExcludeFromDescription().AllowAnonymous().DisableAntiforgery();
        g.MapGet("/oauth/v1/generate", Token);
        g.MapPost("/mpesa/c2b/v1/registerurl", (HttpRequest r) => Authorized(r, RegisterUrl));
        g.MapPost("/mpesa/c2b/v1/simulate", (HttpRequest r) => Authorized(r, Simulate));
        g.MapPost("/mpesa/stkpush/v1/processrequest", (HttpRequest r) => Authorized(r, StkPush));
        g.MapPost("/mpesa/transactionstatus/v1/query", (HttpRequest r) => Authorized(r, TransactionStatus));
    }

    private IResult Token(HttpRequest request)
    {
        if (request.Query["grant_type"] != "client_credentials") return Error(400, "400.008.02", "Invalid grant type passed");
        var header = request.Headers.Authorization.ToString();
        string? key = null, secret = null;
        if (header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..])).Split(':', 2);
                if (pair.Length == 2) (key, secret) = (pair[0], pair[1]);
            }
            catch (FormatException) { }
        }
        if (key is null || !_apps.TryGetValue(key, out var app) || app.Secret != secret) return Error(400, "400.008.01", "Invalid Authentication passed");
        var token = RandomNumberGenerator.GetHexString(28);
        _tokens[token] = time.GetUtcNow() + TokenLifetime;
        Interlocked.Increment(ref _tokensIssued);
        return Results.Json(new { access_token = token, expires_in = ((long)TokenLifetime.TotalSeconds).ToString(CultureInfo.InvariantCulture) }, AsWritten);
    }

    private async Task<IResult> Authorized(HttpRequest request, Func<JsonElement, IResult> handle)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || !_tokens.TryGetValue(header[7..], out var until) || until <= time.GetUtcNow())
            return Error(401, "404.001.03", "Invalid Access Token");
        JsonElement body;
        try
        {
            body = (await JsonDocument.ParseAsync(request.Body)).RootElement.Clone();
        }
        catch (JsonException)
        {
            return Error(400, "400.002.05", "Invalid Request Payload");
        }
        return body.ValueKind == JsonValueKind.Object ? handle(body) : Error(400, "400.002.05", "Invalid Request Payload");
    }

    private IResult RegisterUrl(JsonElement body)
    {
        var (code, type, confirmation, validation) = (S(body, "ShortCode"), S(body, "ResponseType"), S(body, "ConfirmationURL"), S(body, "ValidationURL"));
        if (code is null || !_apps.Values.Any(a => a.ShortCode == code)) return Error(400, "400.002.02", "Bad Request - Invalid ShortCode");
        if (type is not ("Completed" or "Cancelled")) return Error(400, "400.002.02", "Bad Request - Invalid ResponseType");
        if (!IsUrl(confirmation) || !IsUrl(validation)) return Error(400, "400.002.02", "Bad Request - Invalid URL");
        _registered[code] = (confirmation!, validation!);
        return Results.Json(new { OriginatorCoversationID = Id("OC"), ResponseCode = "0", ResponseDescription = "Success" }, AsWritten);
    }

    // Daraja's sandbox C2B simulate: a payment to the paybill as a customer makes it, posted to the registered URLs.
    private IResult Simulate(JsonElement body)
    {
        var (code, amount, msisdn, reference) = (S(body, "ShortCode"), S(body, "Amount"), S(body, "Msisdn"), S(body, "BillRefNumber"));
        if (code is null || !_registered.TryGetValue(code, out var urls)) return Error(400, "400.002.02", "Bad Request - Invalid ShortCode");
        if (amount is null || !long.TryParse(amount, NumberStyles.None, CultureInfo.InvariantCulture, out var whole) || whole < 1)
            return Error(400, "400.002.02", "Bad Request - Invalid Amount");
        if (msisdn is null || !Msisdn().IsMatch(msisdn)) return Error(400, "400.002.02", "Bad Request - Invalid Msisdn");
        var payment = new
        {
            TransactionType = "Pay Bill", TransID = Receipt(), TransTime = MpesaAmounts.Timestamp(time.GetUtcNow()), TransAmount = $"{whole}.00",
            BusinessShortCode = code, BillRefNumber = reference ?? "", InvoiceNumber = "", OrgAccountBalance = "", ThirdPartyTransID = "",
            MSISDN = msisdn[..6] + "***" + msisdn[^3..], FirstName = "Sandbox", MiddleName = "", LastName = "Customer",
        };
        Later(payment.TransID, [(urls.Validation, payment), (urls.Confirmation, payment)], stopUnlessAccepted: true);
        return Results.Json(new { OriginatorCoversationID = Id("OC"), ResponseCode = "0", ResponseDescription = "Accept the service request successfully." }, AsWritten);
    }

    private IResult StkPush(JsonElement body)
    {
        var code = S(body, "BusinessShortCode");
        var app = _apps.Values.FirstOrDefault(a => a.ShortCode == code);
        if (app is null) return Error(400, "400.002.02", "Bad Request - Invalid BusinessShortCode");
        var timestamp = S(body, "Timestamp");
        var at = MpesaAmounts.Instant(timestamp);
        if (at is null || (at.Value - time.GetUtcNow()).Duration() > TimeSpan.FromHours(1)) return Error(400, "400.002.02", "Bad Request - Invalid Timestamp");
        if (S(body, "Password") != MpesaAmounts.Password(code!, app.Passkey, timestamp!)) return Error(400, "400.002.02", "Bad Request - Invalid Password");
        if (S(body, "TransactionType") is not ("CustomerPayBillOnline" or "CustomerBuyGoodsOnline")) return Error(400, "400.002.02", "Bad Request - Invalid TransactionType");
        if (!body.TryGetProperty("Amount", out var a) || a.ValueKind != JsonValueKind.Number || !a.TryGetInt64(out var amount) || amount < 1)
            return Error(400, "400.002.02", "Bad Request - Invalid Amount");
        var phone = S(body, "PhoneNumber");
        if (phone is null || !Msisdn().IsMatch(phone) || S(body, "PartyA") != phone) return Error(400, "400.002.02", "Bad Request - Invalid PhoneNumber");
        if (S(body, "PartyB") != code) return Error(400, "400.002.02", "Bad Request - Invalid PartyB");
        var callback = S(body, "CallBackURL");
        if (!IsUrl(callback)) return Error(400, "400.002.02", "Bad Request - Invalid CallBackURL");
        if (S(body, "AccountReference") is not { Length: >= 1 and <= 12 }) return Error(400, "400.002.02", "Bad Request - Invalid AccountReference");
        if (S(body, "TransactionDesc") is not { Length: >= 1 and <= 13 }) return Error(400, "400.002.02", "Bad Request - Invalid TransactionDesc");

        var scenario = _next.TryDequeue(out var queued) ? queued : phone[^4..] switch
        {
            "1032" => SandboxScenario.Cancelled,
            "1037" => SandboxScenario.TimedOut,
            "0000" => SandboxScenario.Lost,
            "2222" => SandboxScenario.PaidTwice,
            _ => SandboxScenario.Paid,
        };
        var prompt = new Prompt(Id("ws_CO_"), Id("MR_"), code!, amount, phone, callback!, scenario, Receipt());
        _prompts[prompt.CheckoutId] = prompt;
        if (scenario != SandboxScenario.Lost)
        {
            var callbackBody = StkCallback(prompt);
            Later(prompt.CheckoutId, scenario == SandboxScenario.PaidTwice ? [(callback!, callbackBody), (callback!, callbackBody)] : [(callback!, callbackBody)]);
        }
        return Results.Json(new
        {
            MerchantRequestID = prompt.MerchantId, CheckoutRequestID = prompt.CheckoutId, ResponseCode = "0",
            ResponseDescription = "Success. Request accepted for processing", CustomerMessage = "Success. Request accepted for processing",
        }, AsWritten);
    }

    private JsonObject StkCallback(Prompt p)
    {
        var (code, desc) = p.Scenario switch
        {
            SandboxScenario.Cancelled => (1032, "Request cancelled by user"),
            SandboxScenario.TimedOut => (1037, "DS timeout user cannot be reached"),
            _ => (0, "The service request is processed successfully."),
        };
        var callback = new JsonObject
        {
            ["MerchantRequestID"] = p.MerchantId, ["CheckoutRequestID"] = p.CheckoutId, ["ResultCode"] = code, ["ResultDesc"] = desc,
        };
        if (code == 0)
            callback["CallbackMetadata"] = new JsonObject
            {
                ["Item"] = new JsonArray(
                    new JsonObject { ["Name"] = "Amount", ["Value"] = decimal.Parse($"{p.Amount}.00", CultureInfo.InvariantCulture) },
                    new JsonObject { ["Name"] = "MpesaReceiptNumber", ["Value"] = p.Receipt },
                    new JsonObject { ["Name"] = "Balance" },
                    new JsonObject { ["Name"] = "TransactionDate", ["Value"] = long.Parse(MpesaAmounts.Timestamp(time.GetUtcNow()), CultureInfo.InvariantCulture) },
                    new JsonObject { ["Name"] = "PhoneNumber", ["Value"] = long.Parse(p.Phone, CultureInfo.InvariantCulture) }),
            };
        return new JsonObject { ["Body"] = new JsonObject { ["stkCallback"] = callback } };
    }

    private IResult TransactionStatus(JsonElement body)
    {
        if (S(body, "CommandID") != "TransactionStatusQuery") return Error(400, "400.002.02", "Bad Request - Invalid CommandID");
        if (S(body, "IdentifierType") is not ("1" or "2" or "4")) return Error(400, "400.002.02", "Bad Request - Invalid IdentifierType");
        var (result, timeout) = (S(body, "ResultURL"), S(body, "QueueTimeOutURL"));
        if (!IsUrl(result) || !IsUrl(timeout)) return Error(400, "400.002.02", "Bad Request - Invalid ResultURL");
        var (transaction, original) = (S(body, "TransactionID"), S(body, "OriginalConversationID"));
        if (string.IsNullOrEmpty(transaction) && string.IsNullOrEmpty(original)) return Error(400, "400.002.02", "Bad Request - Invalid TransactionID");
        var prompt = _prompts.Values.FirstOrDefault(p => p.CheckoutId == original || p.Receipt == transaction);
        var (originator, conversation) = (Id("OC_"), Id("AG_"));
        var paid = prompt is { Scenario: SandboxScenario.Paid or SandboxScenario.Lost or SandboxScenario.PaidTwice };
        var answer = new JsonObject
        {
            ["Result"] = new JsonObject
            {
                ["ResultType"] = 0, ["ResultCode"] = paid ? 0 : 2001,
                ["ResultDesc"] = paid ? "The service request is processed successfully." : "The transaction was not completed.",
                ["OriginatorConversationID"] = originator, ["ConversationID"] = conversation, ["TransactionID"] = prompt?.Receipt ?? "",
                ["ResultParameters"] = paid
                    ? new JsonObject
                    {
                        ["ResultParameter"] = new JsonArray(
                            new JsonObject { ["Key"] = "ReceiptNo", ["Value"] = prompt!.Receipt },
                            new JsonObject { ["Key"] = "Amount", ["Value"] = prompt.Amount },
                            new JsonObject { ["Key"] = "TransactionStatus", ["Value"] = "Completed" },
                            new JsonObject { ["Key"] = "DebitPartyName", ["Value"] = $"{prompt.Phone} - Sandbox Customer" },
                            new JsonObject { ["Key"] = "FinalisedTime", ["Value"] = long.Parse(MpesaAmounts.Timestamp(time.GetUtcNow()), CultureInfo.InvariantCulture) }),
                    }
                    : null,
                ["ReferenceData"] = new JsonObject { ["ReferenceItem"] = new JsonObject { ["Key"] = "Occasion" } },
            },
        };
        Later(conversation, [(result!, answer)]);
        return Results.Json(new { OriginatorConversationID = originator, ConversationID = conversation, ResponseCode = "0",
            ResponseDescription = "Accept the service request successfully." }, AsWritten);
    }

    // Posts the callbacks one after another once CallbackDelay has passed on the sandbox's clock.
    private void Later(string id, (string Url, object Body)[] posts, bool stopUnlessAccepted = false)
    {
        var delivery = Delivery(id);
        async Task SendAsync()
        {
            var status = 0;
            try
            {
                foreach (var (url, body) in posts)
                {
                    using var response = await http.PostAsJsonAsync(url, body, AsWritten);
                    status = (int)response.StatusCode;
                    if (stopUnlessAccepted && !(await response.Content.ReadAsStringAsync()).Contains("\"ResultCode\":\"0\"", StringComparison.Ordinal)
                        && !response.RequestMessage!.RequestUri!.AbsolutePath.EndsWith("/confirmation", StringComparison.Ordinal)) break;
                }
            }
            catch (HttpRequestException e)
            {
                log.LogWarning("The Daraja sandbox could not deliver a callback for {Id}: {Error}", id, e.Message);
            }
            delivery.TrySetResult(status);
        }
        if (CallbackDelay <= TimeSpan.Zero)
        {
            _ = Task.Run(SendAsync);
            return;
        }
        _timers.Add(time.CreateTimer(_ => _ = Task.Run(SendAsync), null, CallbackDelay, Timeout.InfiniteTimeSpan));
    }

    private TaskCompletionSource<int> Delivery(string id) => _delivered.GetOrAdd(id, _ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously));

    private IResult Error(int status, string code, string message)
    {
        Refusals.Enqueue($"{code} {message}");
        return Results.Json(new { requestId = Id(""), errorCode = code, errorMessage = message }, AsWritten, statusCode: status);
    }

    private static readonly JsonSerializerOptions AsWritten = new();
    private static string? S(JsonElement e, string name) => DarajaClient.Text(e, name);
    private static bool IsUrl(string? s) => Uri.TryCreate(s, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp);
    private static string Id(string prefix) => prefix + RandomNumberGenerator.GetHexString(20);
    private static string Receipt() => "S" + RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 9);

    [GeneratedRegex(@"^254(7|1)[0-9]{8}\z")]
    private static partial Regex Msisdn();
}

internal static class DarajaSandboxEndpoints
{
    /// <summary>The sandbox's services; it is only reachable where <see cref="MapDarajaSandbox"/> maps it (the demo, tests).</summary>
    public static IServiceCollection AddDarajaSandbox(this IServiceCollection services)
    {
        services.AddHttpClient(nameof(DarajaSandbox));
        services.AddSingleton(sp => new DarajaSandbox(sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(DarajaSandbox)), sp.GetRequiredService<ILogger<DarajaSandbox>>()));
        return services;
    }

    /// <summary>Maps the Daraja stand-in under <paramref name="prefix"/>; never in production — it is not M-Pesa.</summary>
    public static IEndpointRouteBuilder MapDarajaSandbox(this IEndpointRouteBuilder app, string prefix)
    {
        app.ServiceProvider.GetRequiredService<DarajaSandbox>().Map(app, prefix);
        return app;
    }
}
