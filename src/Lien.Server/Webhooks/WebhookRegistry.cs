using Lien.Server.Audit;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Webhooks;

internal enum WebhookRefusal { UnknownEndpoint, UnknownDelivery, TooManyEndpoints, EndpointDisabled }

/// <summary>What became of a webhook operation: done (with what it made), or refused with a sentence.</summary>
internal abstract record WebhookOutcome
{
    public sealed record Done<T>(T Value) : WebhookOutcome;
    public sealed record Refused(WebhookRefusal Reason, string Detail) : WebhookOutcome;
}

/// <summary>
/// A lender's webhook endpoints made, changed and deleted, and deliveries sent again; each change audited in its
/// transaction and announced to every node's <see cref="WebhookSubscriptions"/> when it commits.
/// </summary>
internal sealed class WebhookRegistry(LienDb db, SecretBox box, WebhookSubscriptions subscriptions, AuditTrail audit, TimeProvider time)
{
    /// <summary>Makes an endpoint; its secret (<c>whsec_…</c>) is returned once and kept only sealed.</summary>
    public Task<WebhookOutcome> CreateAsync(Guid lenderId, string url, string? description, IReadOnlyList<string>? types, string actor, CancellationToken ct) =>
        db.InTransactionAsync<WebhookOutcome>(async () =>
        {
            await db.LockLenderIfRedoingAsync(lenderId, ct);
            if (await db.WebhookEndpoints.CountAsync(e => e.LenderId == lenderId, ct) >= WebhookLimits.EndpointsPerLender)
                return new WebhookOutcome.Refused(WebhookRefusal.TooManyEndpoints,
                    $"A lender has at most {WebhookLimits.EndpointsPerLender} webhook endpoints; delete one first.");
            var now = time.GetUtcNow();
            var key = WebhookSignature.NewKey();
            var endpoint = new WebhookEndpoint
            {
                Id = Guid.CreateVersion7(now),
                LenderId = lenderId,
                Url = url,
                Description = description,
                EventTypes = Stored(types),
                SecretSealed = box.Seal(key, WebhookEndpoint.SecretPurpose),
                CreatedAt = now,
            };
            db.WebhookEndpoints.Add(endpoint);
            await audit.RecordAsync(lenderId, actor, AuditAction.WebhookEndpointCreated, Subject(endpoint), data: new { url, eventTypes = types }, ct: ct);
            await ChangedAsync(lenderId, ct);
            return new WebhookOutcome.Done<(WebhookEndpoint, string)>((endpoint, WebhookSignature.Secret(key)));
        }, ct);

    /// <summary>Changes what is given (null: unchanged). Enabling clears the reason it was disabled and its failing streak.</summary>
    public Task<WebhookOutcome> UpdateAsync(Guid lenderId, Guid id, string? url, string? description, IReadOnlyList<string>? types, bool? enabled,
        string actor, CancellationToken ct) =>
        db.InTransactionAsync<WebhookOutcome>(async () =>
        {
            var endpoint = await db.WebhookEndpoints.FirstOrDefaultAsync(e => e.Id == id && e.LenderId == lenderId, ct);
            if (endpoint is null) return UnknownEndpoint;
            if (url is not null) endpoint.Url = url;
            if (description is not null) endpoint.Description = description.Length == 0 ? null : description;
            if (types is not null) endpoint.EventTypes = Stored(types);
            if (enabled == true && endpoint.DisabledAt is not null)
                (endpoint.DisabledAt, endpoint.DisabledReason, endpoint.FailingSince) = (null, null, null);
            else if (enabled == false && endpoint.DisabledAt is null)
                (endpoint.DisabledAt, endpoint.DisabledReason) = (time.GetUtcNow(), $"Disabled by {actor}.");
            await audit.RecordAsync(lenderId, actor, AuditAction.WebhookEndpointUpdated, Subject(endpoint),
                data: new { url, description, eventTypes = types, enabled }, ct: ct);
            await ChangedAsync(lenderId, ct);
            return new WebhookOutcome.Done<WebhookEndpoint>(endpoint);
        }, ct);

    /// <summary>Deletes the endpoint and every delivery to it.</summary>
    public Task<WebhookOutcome> DeleteAsync(Guid lenderId, Guid id, string actor, CancellationToken ct) =>
        db.InTransactionAsync<WebhookOutcome>(async () =>
        {
            var endpoint = await db.WebhookEndpoints.FirstOrDefaultAsync(e => e.Id == id && e.LenderId == lenderId, ct);
            if (endpoint is null) return UnknownEndpoint;
            await db.WebhookMessages.Where(m => m.EndpointId == id).ExecuteDeleteAsync(ct);
            db.WebhookEndpoints.Remove(endpoint);
            await audit.RecordAsync(lenderId, actor, AuditAction.WebhookEndpointDeleted, Subject(endpoint), data: new { endpoint.Url }, ct: ct);
            await ChangedAsync(lenderId, ct);
            return new WebhookOutcome.Done<WebhookEndpoint>(endpoint);
        }, ct);

    /// <summary>Sends a delivery again now (whatever became of it), retried as a new event would be.</summary>
    public Task<WebhookOutcome> RedeliverAsync(Guid lenderId, Guid messageId, TimeSpan retryFor, CancellationToken ct) =>
        db.InTransactionAsync<WebhookOutcome>(async () =>
        {
            var m = await db.WebhookMessages.FirstOrDefaultAsync(x => x.Id == messageId && x.LenderId == lenderId, ct);
            if (m is null) return new WebhookOutcome.Refused(WebhookRefusal.UnknownDelivery, "No such webhook delivery.");
            var disabled = await db.WebhookEndpoints.AnyAsync(e => e.Id == m.EndpointId && e.DisabledAt != null, ct);
            if (disabled)
                return new WebhookOutcome.Refused(WebhookRefusal.EndpointDisabled,
                    "The delivery's endpoint is disabled; enable it (PATCH with enabled: true) first.");
            var now = time.GetUtcNow();
            (m.Status, m.DueAt, m.RetryUntil) = (WebhookDeliveryStatus.Pending, now, now + retryFor);
            return new WebhookOutcome.Done<WebhookMessage>(m);
        }, ct);

    private static readonly WebhookOutcome.Refused UnknownEndpoint = new(WebhookRefusal.UnknownEndpoint, "No such webhook endpoint.");

    private async Task ChangedAsync(Guid lenderId, CancellationToken ct)
    {
        db.AfterCommit(() => subscriptions.Changed(lenderId));
        await PostgresWebhookListener.AnnounceAsync(db, lenderId, ct);
    }

    private static string Subject(WebhookEndpoint e) => $"webhook-endpoint:{e.Id}";

    // "*" (every type, those added later too) is stored as null.
    private static string? Stored(IReadOnlyList<string>? types) => types is null || types.Contains(WebhookEventTypes.Every) ? null : string.Join(',', types.Distinct());
}
