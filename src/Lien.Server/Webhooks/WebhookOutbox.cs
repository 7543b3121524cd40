using System.Text.Json.Nodes;
using Lien.Server.Audit;
using Lien.Server.Storage;
using Microsoft.Extensions.Options;

namespace Lien.Server.Webhooks;

/// <summary>
/// Writes one <see cref="WebhookMessage"/> per endpoint that wants an event, in the event's own unit of work: told of
/// every audit event (<see cref="IAuditListener"/>), and called for <see cref="WebhookEventTypes.LeaseApplied"/>. An
/// event no endpoint wants (a lender with none, the usual case) costs no database statement.
/// </summary>
internal sealed class WebhookOutbox(WebhookSubscriptions subscriptions, TimeProvider time, IOptions<WebhookOptions> options) : IAuditListener
{
    public ValueTask RecordedAsync(LienDb db, AuditEvent e, CancellationToken ct) =>
        WebhookEventTypes.IsKnown(e.Action)
            ? EnqueueAsync(db, e.LenderId, e.Action, () => AuditData(e), ct)
            : ValueTask.CompletedTask;

    /// <summary>Whether any endpoint of the lender wants <paramref name="type"/> (read from the subscriptions' cache).</summary>
    public async ValueTask<bool> WantedAsync(LienDb db, Guid lenderId, string type, CancellationToken ct)
    {
        foreach (var s in await subscriptions.ForAsync(db, lenderId, ct))
            if (s.Wants(type)) return true;
        return false;
    }

    /// <summary>Adds a message for <paramref name="type"/> to each endpoint of the lender that wants it; <paramref name="data"/> is made only then.</summary>
    public async ValueTask EnqueueAsync(LienDb db, Guid lenderId, string type, Func<JsonObject> data, CancellationToken ct)
    {
        var subscribers = await subscriptions.ForAsync(db, lenderId, ct);
        string? payload = null;
        var now = time.GetUtcNow();
        foreach (var s in subscribers)
        {
            if (!s.Wants(type)) continue;
            payload ??= new JsonObject { ["type"] = type, ["timestamp"] = now, ["data"] = data() }.ToJsonString(Api.Json.Options);
            // In a unit of work, written as the unit's other new rows are (RawInsert): at once on SQLite, in the unit's one
            // round trip on PostgreSQL.
            await RawInsert.AddAsync(db, new WebhookMessage
            {
                Id = Guid.CreateVersion7(now),
                LenderId = lenderId,
                EndpointId = s.EndpointId,
                EventType = type,
                Payload = payload,
                CreatedAt = now,
                Status = WebhookDeliveryStatus.Pending,
                DueAt = now,
                RetryUntil = now + options.Value.RetryFor,
            }, ct);
        }
    }

    // What the audit event says, as the lender reads it in the trail: its subject ("payment:{id}"), who, why, and its data.
    private static JsonObject AuditData(AuditEvent e) => new()
    {
        ["eventId"] = e.EventId,
        ["at"] = e.At,
        ["subject"] = e.Subject,
        ["actor"] = e.Actor,
        ["reason"] = e.Reason,
        ["policy"] = e.Policy,
        ["details"] = e.Data is null ? null : JsonNode.Parse(e.Data),
    };
}
