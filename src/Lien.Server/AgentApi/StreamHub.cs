using System.Collections.Concurrent;
using Lien.Server.Storage;

namespace Lien.Server.AgentApi;

/// <summary>
/// The devices streaming from this node, and a wake-up signal for each. A lease committed on this node, and an ack
/// recorded here, are handed to the device's stream with the wake-up (what was committed, after the commit), so the
/// stream writes it without reading the database; news from elsewhere (another node's NOTIFY, a lost notification
/// connection) makes the stream read the device's row instead. Either way a device gets only what was committed.
/// </summary>
internal sealed class StreamHub(LeaseAnnouncements announcements, StreamBursts bursts)
{
    private readonly ConcurrentDictionary<Guid, Subscriber> _subscribers = new();

    /// <summary>This node, in its own notifications: it has handed the lease to its streams already and skips them.</summary>
    public string NodeId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>What a stream learned while it slept: a newer lease, a newer ack, or only that it must read the row.</summary>
    public readonly record struct News(bool Reread, long LeaseSeq, string? LeaseJws, long AppliedSeq);

    /// <summary>A device's one stream, of one enrollment (token <see cref="Epoch"/>); a newer connection of the same device supersedes it.</summary>
    public sealed class Subscriber(int epoch)
    {
        public int Epoch { get; } = epoch;

        private readonly Lock _lock = new();
        private News _news;
        private bool _signalled;
        private TaskCompletionSource? _waiter;
        public bool Superseded { get; private set; }

        /// <summary>Lease <paramref name="seq"/> was committed; commits can be reported out of order, so the highest wins.</summary>
        public void Committed(long seq, string jws) => Signal(() => { if (seq > _news.LeaseSeq) _news = _news with { LeaseSeq = seq, LeaseJws = jws }; });

        public void Applied(long seq) => Signal(() => { if (seq > _news.AppliedSeq) _news = _news with { AppliedSeq = seq }; });

        /// <summary>Something changed that this node did not see: the stream reads the device's row.</summary>
        public void Wake() => Signal(() => _news = _news with { Reread = true });

        public void Supersede() => Signal(() => Superseded = true);

        /// <summary>Completes when there is news: at once if some came since the last <see cref="Take"/>. Nothing to cancel.</summary>
        public Task SignalledAsync()
        {
            lock (_lock)
                return _signalled ? Task.CompletedTask : (_waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        /// <summary>Everything learned since the last call, and forgets it.</summary>
        public News Take()
        {
            lock (_lock)
            {
                var news = _news;
                _news = default;
                _signalled = false;
                return news;
            }
        }

        // Many signals while the stream is busy collapse into one wake-up.
        private void Signal(Action record)
        {
            TaskCompletionSource? waiter;
            lock (_lock)
            {
                record();
                _signalled = true;
                (waiter, _waiter) = (_waiter, null);
            }
            waiter?.TrySetResult();
        }
    }

    public Subscriber Subscribe(Guid deviceId, int epoch)
    {
        var fresh = new Subscriber(epoch);
        _subscribers.AddOrUpdate(deviceId, fresh, (_, old) =>
        {
            old.Supersede();
            return fresh;
        });
        bursts.Opened();
        return fresh;
    }

    public void Unsubscribe(Guid deviceId, Subscriber subscriber) =>
        _subscribers.TryRemove(new KeyValuePair<Guid, Subscriber>(deviceId, subscriber));

    /// <summary>Lease <paramref name="seq"/> was committed for the device on this node (call after the commit).</summary>
    public void LeaseCommitted(Guid deviceId, long seq, string jws)
    {
        if (_subscribers.TryGetValue(deviceId, out var s)) s.Committed(seq, jws);
    }

    /// <summary>A lease was committed for the device on another node (LISTEN/NOTIFY): its stream reads the row.</summary>
    public void LeaseCommitted(Guid deviceId)
    {
        if (_subscribers.TryGetValue(deviceId, out var s)) s.Wake();
    }

    /// <summary>The device's ack of <paramref name="seq"/> was recorded on this node: its stream stops resending.</summary>
    public void LeaseApplied(Guid deviceId, long seq)
    {
        if (_subscribers.TryGetValue(deviceId, out var s)) s.Applied(seq);
    }

    /// <summary>
    /// The device enrolled again, as token <paramref name="epoch"/>, in <paramref name="db"/>'s open transaction: once
    /// it commits, the earlier enrollment's stream ends at once — on this node directly, on the others through the
    /// notification a lease commit sends (their stream re-reads the row, finds another epoch and ends).
    /// </summary>
    public void Enrolled(LienDb db, Guid deviceId, int epoch)
    {
        db.AfterCommit(() =>
        {
            Ended(deviceId, epoch);
            if (!db.IsSqlite) announcements.Committed(deviceId);
        });
    }

    /// <summary>Ends this node's stream of the device if it belongs to an enrollment before <paramref name="epoch"/>.</summary>
    public void Ended(Guid deviceId, int epoch)
    {
        if (_subscribers.TryGetValue(deviceId, out var s) && s.Epoch < epoch) s.Supersede();
    }

    /// <summary>After a lost notification connection: every stream re-reads its device once.</summary>
    public void WakeAll()
    {
        foreach (var s in _subscribers.Values) s.Wake();
    }
}
