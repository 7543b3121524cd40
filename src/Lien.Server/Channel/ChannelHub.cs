using System.Collections.Concurrent;

namespace Lien.Server.Channel;

/// <summary>
/// The devices streaming from this node, and a wake-up signal for each. It holds no lease: a woken stream reads the
/// device's current lease from the database, so what a device gets is always what was committed, on any node.
/// </summary>
internal sealed class ChannelHub
{
    private readonly ConcurrentDictionary<Guid, Subscriber> _subscribers = new();

    public int Connected => _subscribers.Count;

    /// <summary>A device's one stream; a newer connection of the same device supersedes it.</summary>
    public sealed class Subscriber
    {
        private readonly SemaphoreSlim _signal = new(0, 1);
        public bool Superseded { get; private set; }

        public void Wake()
        {
            // At most one pending wake-up: many commits while the stream is busy collapse into one read.
            if (_signal.CurrentCount == 0)
                try { _signal.Release(); } catch (SemaphoreFullException) { }
        }

        public void Supersede()
        {
            Superseded = true;
            Wake();
        }

        public Task WaitAsync(CancellationToken ct) => _signal.WaitAsync(ct);
    }

    public Subscriber Subscribe(Guid deviceId)
    {
        var fresh = new Subscriber();
        _subscribers.AddOrUpdate(deviceId, fresh, (_, old) =>
        {
            old.Supersede();
            return fresh;
        });
        return fresh;
    }

    public void Unsubscribe(Guid deviceId, Subscriber subscriber) =>
        _subscribers.TryRemove(new KeyValuePair<Guid, Subscriber>(deviceId, subscriber));

    /// <summary>A lease was committed for the device (on this node or, through LISTEN/NOTIFY, another).</summary>
    public void LeaseCommitted(Guid deviceId)
    {
        if (_subscribers.TryGetValue(deviceId, out var s)) s.Wake();
    }

    /// <summary>After a lost notification connection: every stream re-reads its device once.</summary>
    public void WakeAll()
    {
        foreach (var s in _subscribers.Values) s.Wake();
    }
}
