namespace Lien.Server.AgentApi;

/// <summary>
/// Asks the garbage collector for a young-generation collection every <see cref="StreamOptions.CollectEvery"/> streams
/// opened. Each open stream holds about 15 KiB of objects for its whole life (Kestrel's connection, its pipes and headers,
/// the request's frames). Made in a burst — a restart, when every phone reconnects — they all sit in the young generations
/// until one collection promotes them together: with 18,000 streams that was one pause of 0.1–0.45 s under the first
/// payments after the burst (docs/BENCHMARKS.md, "What sets the 18,000-stream start"). Collected every few thousand new
/// streams instead, the same promotion happens in pieces of tens of milliseconds while the burst lasts. Off the caller's
/// thread: the stream that crosses the mark does not wait for it (the pause itself stops every thread, as any collection).
/// </summary>
internal sealed class StreamBursts(int every, Action collect, Action<Action>? run = null)
{
    private readonly Action<Action> _run = run ?? (static c => ThreadPool.UnsafeQueueUserWorkItem(static c => c(), c, preferLocal: false));
    private long _opened;

    /// <summary>The server's: a gen1 collection (the streams' objects made since the last one reach gen2 by the next).</summary>
    public StreamBursts(Microsoft.Extensions.Options.IOptions<StreamOptions> options)
        : this(options.Value.CollectEvery, static () => GC.Collect(1, GCCollectionMode.Forced, blocking: true))
    {
    }

    /// <summary>A stream opened; every <c>every</c>-th asks for the collection (never when <c>every</c> is 0 or less), by
    /// <c>run</c> (tests: at once) or else on the thread pool.</summary>
    public void Opened()
    {
        if (every <= 0 || Interlocked.Increment(ref _opened) % every != 0) return;
        _run(collect);
    }
}
