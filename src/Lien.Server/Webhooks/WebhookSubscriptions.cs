using System.Collections.Concurrent;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Webhooks;

/// <summary>
/// Each lender's enabled webhook endpoints and the types they want, kept in memory so that an event of a lender with no
/// endpoint costs no database statement (the payment path). A change is seen at once on this node (<see cref="Changed"/>),
/// on the other nodes of one PostgreSQL through <see cref="PostgresWebhookListener"/>, and anywhere within
/// <see cref="WebhookOptions.SubscriptionCacheTtl"/>.
/// </summary>
internal sealed class WebhookSubscriptions(TimeProvider time, IOptions<WebhookOptions> options)
{
    internal sealed record Subscriber(Guid EndpointId, IReadOnlySet<string>? Types)
    {
        public bool Wants(string type) => Types is null || Types.Contains(type);
    }

    private sealed record Entry(DateTimeOffset Expires, IReadOnlyList<Subscriber> Subscribers);

    private readonly ConcurrentDictionary<Guid, Entry> _lenders = new();
    private long _generation;

    public async ValueTask<IReadOnlyList<Subscriber>> ForAsync(LienDb db, Guid lenderId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_lenders.TryGetValue(lenderId, out var entry) && entry.Expires > now) return entry.Subscribers;
        var generation = Interlocked.Read(ref _generation);
        var rows = await db.WebhookEndpoints.AsNoTracking().Where(e => e.LenderId == lenderId && e.DisabledAt == null)
            .Select(e => new { e.Id, e.EventTypes }).ToListAsync(ct);
        var subscribers = rows.Select(r => new Subscriber(r.Id, r.EventTypes?.Split(',').ToHashSet(StringComparer.Ordinal))).ToList();
        // A change announced while this was read may not be in what was read: use it for this event, keep it for none.
        if (Interlocked.Read(ref _generation) == generation) _lenders[lenderId] = new Entry(now + options.Value.SubscriptionCacheTtl, subscribers);
        return subscribers;
    }

    /// <summary>Any lender's endpoints may have changed (announcements were missed): read each again for its next event.</summary>
    public void ChangedAll()
    {
        Interlocked.Increment(ref _generation);
        _lenders.Clear();
    }

    /// <summary>The lender's endpoints changed (here, or on another node): read them again for the next event.</summary>
    public void Changed(Guid lenderId)
    {
        Interlocked.Increment(ref _generation);
        _lenders.TryRemove(lenderId, out _);
    }
}
