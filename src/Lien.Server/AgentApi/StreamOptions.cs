namespace Lien.Server.AgentApi;

/// <summary>The stream's timing: heartbeats and lease resends (configured under <c>Lien:Stream</c>).</summary>
internal sealed class StreamOptions
{
    /// <summary>A comment line this often keeps NATs and proxies from closing an idle stream.</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>First wait for an ack before the lease is written again; doubles up to <see cref="MaxRetry"/>.</summary>
    public TimeSpan FirstRetry { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan MaxRetry { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A young-generation collection is asked for every this many streams opened, so a burst of reconnecting devices is
    /// promoted in small pieces rather than in one long pause later (<see cref="StreamBursts"/>); 0 turns it off.
    /// </summary>
    public int CollectEvery { get; set; } = 2000;
}
