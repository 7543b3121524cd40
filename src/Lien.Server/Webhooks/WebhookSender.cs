using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Lien.Server.Audit;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Webhooks;

/// <summary>
/// Sends the webhook outbox: each due message POSTed, signed (Standard Webhooks), to its endpoint; a failure retried with
/// exponential backoff until <see cref="WebhookMessage.RetryUntil"/>; an endpoint whose every delivery failed for
/// <see cref="WebhookOptions.DisableAfter"/> disabled, with the reason. Nodes share the work: on PostgreSQL a batch is
/// claimed with FOR UPDATE SKIP LOCKED and its due time moved ahead, so no two nodes send one message at once.
/// </summary>
internal sealed class WebhookSender(IServiceScopeFactory scopes, IHttpClientFactory http, SecretBox box, WebhookSubscriptions subscriptions,
    TimeProvider time, IOptions<WebhookOptions> options, ILogger<WebhookSender> log) : OutboxSender(time, log)
{
    public const string ClientName = "lien-webhooks";
    public const string Actor = "webhook-sender";
    private const int Batch = 50;

    // A claimed message is not due again for this long: the attempt's answer (or its timeout) comes well before.
    private TimeSpan ClaimFor => options.Value.Timeout * 4;

    private sealed record Outcome(int? StatusCode, string? Error)
    {
        public bool Delivered => StatusCode is >= 200 and < 300;
    }

    protected override TimeSpan PollInterval => options.Value.PollInterval;

    public override async Task<int> SendDueAsync(CancellationToken ct)
    {
        var attempted = 0;
        int claimed;
        do
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            var messages = await db.ClaimDueAsync<WebhookMessage>(Time.GetUtcNow(), Batch, ClaimFor, ct);
            claimed = messages.Count;
            if (claimed == 0) break;
            var ids = messages.Select(m => m.EndpointId).Distinct().ToList();
            var endpoints = await db.WebhookEndpoints.Where(e => ids.Contains(e.Id)).ToDictionaryAsync(e => e.Id, ct);
            var sendable = messages.Where(m => endpoints.TryGetValue(m.EndpointId, out var e) && e.DisabledAt is null).ToList();
            var outcomes = await Task.WhenAll(sendable.Select(m => AttemptAsync(m, endpoints[m.EndpointId], ct)));
            attempted += sendable.Count;

            var now = Time.GetUtcNow();
            foreach (var m in messages.Except(sendable))
                Finish(m, WebhookDeliveryStatus.Failed, "Not sent: the endpoint is disabled.");
            var disabled = new List<WebhookEndpoint>();
            for (var i = 0; i < sendable.Count; i++)
                if (Record(sendable[i], endpoints[sendable[i].EndpointId], outcomes[i], now) is { } endpoint) disabled.Add(endpoint);
            var audit = scope.ServiceProvider.GetRequiredService<AuditTrail>();
            foreach (var e in disabled)
                await audit.RecordAsync(e.LenderId, Actor, AuditAction.WebhookEndpointDisabled, $"webhook-endpoint:{e.Id}", e.DisabledReason, ct: ct);
            try
            {
                using (await db.WriteGateAsync(ct))
                    await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateConcurrencyException)
            {
                continue; // an endpoint was deleted (with its messages) while they were being sent: nothing left to record
            }
            foreach (var e in disabled.Select(e => e.LenderId).Distinct())
            {
                subscriptions.Changed(e);
                await PostgresWebhookListener.AnnounceAsync(db, e, ct);
            }
        } while (claimed == Batch);
        return attempted;
    }

    private async Task<Outcome> AttemptAsync(WebhookMessage m, WebhookEndpoint endpoint, CancellationToken ct)
    {
        var key = box.Open(endpoint.SecretSealed, WebhookEndpoint.SecretPurpose);
        var timestamp = Time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new StringContent(m.Payload, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", m.WebhookId);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSignature.Sign(key, m.WebhookId, timestamp, m.Payload));
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Lien-Webhooks", "1"));
        try
        {
            using var response = await http.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (response.IsSuccessStatusCode) return new Outcome((int)response.StatusCode, null);
            var body = await response.Content.ReadAsStringAsync(ct);
            return new Outcome((int)response.StatusCode, $"HTTP {(int)response.StatusCode}{(body.Length > 0 ? ": " + body : "")}");
        }
        catch (HttpRequestException e)
        {
            return new Outcome(null, e.Message);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new Outcome(null, $"No answer within {options.Value.Timeout.TotalSeconds:0} s.");
        }
    }

    // The attempt's outcome on the message and its endpoint; returns the endpoint if this failure disabled it.
    private WebhookEndpoint? Record(WebhookMessage m, WebhookEndpoint endpoint, Outcome outcome, DateTimeOffset now)
    {
        var o = options.Value;
        m.Attempts++;
        m.LastAttemptAt = now;
        m.LastStatusCode = outcome.StatusCode;
        if (outcome.Delivered)
        {
            m.DeliveredAt = now;
            Finish(m, WebhookDeliveryStatus.Delivered, null);
            endpoint.FailingSince = null;
            return null;
        }
        if (now >= m.RetryUntil) Finish(m, WebhookDeliveryStatus.Failed, outcome.Error);
        else
        {
            m.LastError = Clip(outcome.Error);
            m.DueAt = now + o.Backoff(m.Attempts);
        }
        endpoint.FailingSince ??= now;
        if (endpoint.DisabledAt is not null || now - endpoint.FailingSince < o.DisableAfter) return null;
        endpoint.DisabledAt = now;
        endpoint.DisabledReason = Clip(FormattableString.Invariant(
            $"Disabled automatically: every delivery failed from {endpoint.FailingSince:yyyy-MM-dd HH:mm} UTC to {now:yyyy-MM-dd HH:mm} UTC (last: {outcome.Error}). Enable it again once it answers."));
        return endpoint;
    }

    private static void Finish(WebhookMessage m, WebhookDeliveryStatus status, string? error)
    {
        m.Status = status;
        m.DueAt = null;
        m.LastError = Clip(error);
    }

    private static string? Clip(string? s) => s is { Length: > 500 } ? s[..497] + "..." : s;
}
