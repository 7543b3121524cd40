using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace Lien.Server.Notices;

/// <summary>An Africa's Talking account (<c>Lien:Sms:AfricasTalking</c>); the sandbox is its own base URL and the username <c>sandbox</c>.</summary>
internal sealed class AfricasTalkingOptions
{
    public string? Username { get; set; }
    public string? ApiKey { get; set; }

    /// <summary>The sender id or short code messages come from; the account's default when not set.</summary>
    public string? From { get; set; }

    /// <summary><c>https://api.africastalking.com/</c>, or <c>https://api.sandbox.africastalking.com/</c> for the sandbox.</summary>
    public Uri BaseUrl { get; set; } = new("https://api.africastalking.com/");

    /// <summary>
    /// The secret every Africa's Talking callback URL carries (<c>/v1/sms/africastalking/delivery-reports?token=…</c>, the USSD
    /// and incoming-SMS callbacks alike, as set in the account's dashboard): Africa's Talking does not sign its callbacks.
    /// Callbacks are refused while it is not set.
    /// </summary>
    public string? CallbackToken { get; set; }

    /// <summary>Addresses or networks (CIDR) Africa's Talking's callbacks may come from; empty: any (the token alone).</summary>
    public List<string> AllowedSources { get; set; } = [];

    public bool Configured => !string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(ApiKey);
}

/// <summary>
/// Africa's Talking's SMS API: <c>POST /version1/messaging</c>, form-encoded <c>username</c>, <c>to</c>, <c>message</c> and
/// optional <c>from</c>, the key in the <c>apiKey</c> header; the JSON answer lists each recipient's <c>statusCode</c>,
/// <c>status</c>, <c>messageId</c>, <c>cost</c> and <c>number</c>.
/// </summary>
internal sealed class AfricasTalkingSms(HttpClient http, IOptions<AfricasTalkingOptions> options, ILogger<AfricasTalkingSms> log) : ISmsSender
{
    public string Name => "africastalking";
    public bool Configured => options.Value.Configured;

    public async Task<SmsSendResult> SendAsync(string to, string text, CancellationToken ct)
    {
        var o = options.Value;
        var form = new Dictionary<string, string> { ["username"] = o.Username!, ["to"] = to, ["message"] = text };
        if (!string.IsNullOrEmpty(o.From)) form["from"] = o.From;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(o.BaseUrl, "version1/messaging")) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("apiKey", o.ApiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            return new SmsSendResult(SmsSendOutcome.RetryLater, Error: e.Message);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new SmsSendResult(SmsSendOutcome.RetryLater, Error: "Africa's Talking did not answer in time.");
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                // A refused key or a provider fault is the deployment's to fix or the provider's to recover: retried, and said.
                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                    log.LogWarning("Africa's Talking refused the API key: {Status}.", (int)response.StatusCode);
                var permanent = response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity;
                return new SmsSendResult(permanent ? SmsSendOutcome.Rejected : SmsSendOutcome.RetryLater, StatusCode: (int)response.StatusCode,
                    Error: $"HTTP {(int)response.StatusCode}: {body}");
            }
            Answer? answer;
            try
            {
                answer = JsonSerializer.Deserialize<Answer>(body);
            }
            catch (JsonException)
            {
                return new SmsSendResult(SmsSendOutcome.RetryLater, Error: $"Africa's Talking answered what is not its JSON: {body}");
            }
            var recipient = answer?.Data?.Recipients?.FirstOrDefault();
            if (recipient is null)
                return new SmsSendResult(SmsSendOutcome.Rejected, Error: answer?.Data?.Message ?? "Africa's Talking listed no recipient.");
            return new SmsSendResult(OutcomeOf(recipient.StatusCode), recipient.MessageId is "None" ? null : recipient.MessageId, recipient.Status,
                recipient.StatusCode, recipient.Cost, recipient.StatusCode is 100 or 101 or 102 ? null : recipient.Status);
        }
    }

    /// <summary>
    /// A recipient's status code: 100 Processed, 101 Sent, 102 Queued are taken; 405 InsufficientBalance, 500
    /// InternalServerError and 501 GatewayError may pass later; the rest (401 RiskHold, 402 InvalidSenderId, 403
    /// InvalidPhoneNumber, 404 UnsupportedNumberType, 406 UserInBlacklist, 407 CouldNotRoute, 409 DoNotDisturbRejection, 502
    /// RejectedByGateway, and any code not known) are refusals of this message.
    /// </summary>
    public static SmsSendOutcome OutcomeOf(int statusCode) => statusCode switch
    {
        100 or 101 or 102 => SmsSendOutcome.Accepted,
        405 or 500 or 501 => SmsSendOutcome.RetryLater,
        _ => SmsSendOutcome.Rejected,
    };

    private sealed record Answer([property: JsonPropertyName("SMSMessageData")] MessageData? Data);

    private sealed record MessageData(
        [property: JsonPropertyName("Message")] string? Message,
        [property: JsonPropertyName("Recipients")] List<Recipient>? Recipients);

    private sealed record Recipient(
        [property: JsonPropertyName("statusCode")] int StatusCode,
        [property: JsonPropertyName("number")] string? Number,
        [property: JsonPropertyName("status")] string? Status,
        [property: JsonPropertyName("cost")] string? Cost,
        [property: JsonPropertyName("messageId")] string? MessageId);
}
