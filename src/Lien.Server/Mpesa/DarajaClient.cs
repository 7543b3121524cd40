using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Lien.Server.Mpesa;

/// <summary>A lender's Daraja app, opened: what every call needs.</summary>
internal sealed record DarajaApp(Uri BaseUrl, string ShortCode, string ConsumerKey, string ConsumerSecret, string Passkey,
    string? InitiatorName, string? SecurityCredential);

/// <summary>What Daraja answered: accepted (with its ids), refused (its <c>errorCode</c> and <c>errorMessage</c>), or not reached.</summary>
internal abstract record DarajaAnswer
{
    public sealed record Accepted(string FirstId, string SecondId, string Description) : DarajaAnswer;
    public sealed record Refused(int Status, string? ErrorCode, string Message) : DarajaAnswer;
    public sealed record Unreachable(string Message) : DarajaAnswer;
}

/// <summary>
/// Safaricom Daraja over HTTP, as documented: OAuth (<c>GET /oauth/v1/generate?grant_type=client_credentials</c>, Basic
/// consumer key and secret; the token kept until a minute before its <c>expires_in</c>, dropped when Daraja calls it
/// invalid), C2B register URL, Lipa na M-Pesa Online (STK push), and the Transaction Status query. Errors come as
/// <c>{"requestId", "errorCode", "errorMessage"}</c>.
/// </summary>
internal sealed class DarajaClient(HttpClient http, TimeProvider time)
{
    // Tokens by app (base URL and consumer key): shared by every request of the process.
    private static readonly ConcurrentDictionary<(string, string), (string Token, DateTimeOffset Until)> Tokens = new();
    private static readonly JsonSerializerOptions AsWritten = new(); // Daraja's own names: PascalCase as declared

    public Task<DarajaAnswer> RegisterUrlsAsync(DarajaApp app, string confirmationUrl, string validationUrl, CancellationToken ct) =>
        PostAsync(app, "mpesa/c2b/v1/registerurl", new
        {
            ShortCode = app.ShortCode,
            ResponseType = "Completed", // Daraja completes a payment when the validation URL cannot be reached: it is then held or matched here
            ConfirmationURL = confirmationUrl,
            ValidationURL = validationUrl,
        }, a => new DarajaAnswer.Accepted(Text(a, "OriginatorCoversationID") ?? Text(a, "OriginatorConversationID") ?? "",
            "", Text(a, "ResponseDescription") ?? ""), ct);

    /// <summary>Asks for an STK push of <paramref name="wholeAmount"/> shillings; accepted with (MerchantRequestID, CheckoutRequestID).</summary>
    public Task<DarajaAnswer> StkPushAsync(DarajaApp app, long wholeAmount, string msisdn, string callbackUrl, string accountReference,
        string description, CancellationToken ct)
    {
        var timestamp = MpesaAmounts.Timestamp(time.GetUtcNow());
        return PostAsync(app, "mpesa/stkpush/v1/processrequest", new
        {
            BusinessShortCode = app.ShortCode,
            Password = MpesaAmounts.Password(app.ShortCode, app.Passkey, timestamp),
            Timestamp = timestamp,
            TransactionType = "CustomerPayBillOnline",
            Amount = wholeAmount,
            PartyA = msisdn,
            PartyB = app.ShortCode,
            PhoneNumber = msisdn,
            CallBackURL = callbackUrl,
            AccountReference = accountReference,
            TransactionDesc = description,
        }, a => Text(a, "ResponseCode") == "0" && Text(a, "MerchantRequestID") is { } m && Text(a, "CheckoutRequestID") is { } c
            ? new DarajaAnswer.Accepted(m, c, Text(a, "CustomerMessage") ?? "")
            : new DarajaAnswer.Refused(200, Text(a, "ResponseCode"), Text(a, "ResponseDescription") ?? "Daraja did not accept the request."), ct);
    }

    /// <summary>
    /// Asks for a transaction's status by its receipt, or — with none — by <paramref name="originalConversationId"/>; the
    /// answer comes later to <paramref name="resultUrl"/>. Accepted with (OriginatorConversationID, ConversationID).
    /// </summary>
    public Task<DarajaAnswer> TransactionStatusAsync(DarajaApp app, string? transactionId, string? originalConversationId, string resultUrl,
        string timeoutUrl, CancellationToken ct) =>
        PostAsync(app, "mpesa/transactionstatus/v1/query", new
        {
            Initiator = app.InitiatorName ?? "",
            SecurityCredential = app.SecurityCredential ?? "",
            CommandID = "TransactionStatusQuery",
            TransactionID = transactionId ?? "",
            OriginalConversationID = originalConversationId ?? "",
            PartyA = app.ShortCode,
            IdentifierType = "4",
            ResultURL = resultUrl,
            QueueTimeOutURL = timeoutUrl,
            Remarks = "Lien reconciliation",
            Occasion = "",
        }, a => Text(a, "ResponseCode") == "0"
            ? new DarajaAnswer.Accepted(Text(a, "OriginatorConversationID") ?? "", Text(a, "ConversationID") ?? "", Text(a, "ResponseDescription") ?? "")
            : new DarajaAnswer.Refused(200, Text(a, "ResponseCode"), Text(a, "ResponseDescription") ?? "Daraja did not accept the query."), ct);

    private async Task<DarajaAnswer> PostAsync(DarajaApp app, string path, object body, Func<JsonElement, DarajaAnswer> read, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            string token;
            try
            {
                var got = await TokenAsync(app, ct);
                if (got.Refused is { } refused) return refused;
                token = got.Token!;
            }
            catch (Exception e) when (e is HttpRequestException or JsonException || e is TaskCanceledException && !ct.IsCancellationRequested)
            {
                return new DarajaAnswer.Unreachable($"Daraja's OAuth could not be reached: {e.Message}");
            }
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.BaseUrl, path)) { Content = JsonContent.Create(body, options: AsWritten) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            try
            {
                using var response = await http.SendAsync(request, ct);
                var answer = await JsonAsync(response, ct);
                if (response.IsSuccessStatusCode && answer is { } ok) return read(ok);
                var error = Refusal(response, answer);
                // A token Daraja no longer honours (expired early, revoked): forget it and ask once more with a new one.
                if (attempt == 1 && error.ErrorCode is "404.001.03" or "401.003.01")
                {
                    Tokens.TryRemove(Key(app), out _);
                    continue;
                }
                return error;
            }
            catch (Exception e) when (e is HttpRequestException || e is TaskCanceledException && !ct.IsCancellationRequested)
            {
                return new DarajaAnswer.Unreachable($"Daraja could not be reached: {e.Message}");
            }
        }
    }

    private async Task<(string? Token, DarajaAnswer.Refused? Refused)> TokenAsync(DarajaApp app, CancellationToken ct)
    {
        var key = Key(app);
        var now = time.GetUtcNow();
        if (Tokens.TryGetValue(key, out var held) && held.Until > now) return (held.Token, null);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(app.BaseUrl, "oauth/v1/generate?grant_type=client_credentials"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{app.ConsumerKey}:{app.ConsumerSecret}")));
        using var response = await http.SendAsync(request, ct);
        var answer = await JsonAsync(response, ct);
        if (!response.IsSuccessStatusCode || answer is not { } a || Text(a, "access_token") is not { Length: > 0 } token)
            return (null, Refusal(response, answer));
        // expires_in is a string of seconds ("3599"); a token is used until a minute before it ends.
        var seconds = long.TryParse(Text(a, "expires_in"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 3599;
        Tokens[key] = (token, now.AddSeconds(Math.Max(0, seconds - 60)));
        return (token, null);
    }

    private static (string, string) Key(DarajaApp app) => (app.BaseUrl.ToString(), app.ConsumerKey);

    private static async Task<JsonElement?> JsonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            var root = JsonDocument.Parse(text).RootElement;
            return root.ValueKind == JsonValueKind.Object ? root.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static DarajaAnswer.Refused Refusal(HttpResponseMessage response, JsonElement? answer) =>
        new((int)response.StatusCode, answer is { } a ? Text(a, "errorCode") : null,
            answer is { } b && Text(b, "errorMessage") is { } m ? m : $"Daraja answered HTTP {(int)response.StatusCode}.");

    /// <summary>A member of <paramref name="e"/> as text (a string, or a number's digits), or null.</summary>
    public static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v)
            ? v.ValueKind switch { JsonValueKind.String => v.GetString(), JsonValueKind.Number => v.GetRawText(), _ => null }
            : null;
}
