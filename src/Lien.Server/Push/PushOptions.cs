namespace Lien.Server.Push;

/// <summary>When the push outbox wakes a device that its stream has not reached.</summary>
internal sealed class PushOptions
{
    /// <summary>The stream gets this head start; a device that acknowledged by then needs no push.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(3);
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>After a push was sent, how long to wait for the ack before pushing again (doubling).</summary>
    public TimeSpan Recheck { get; set; } = TimeSpan.FromMinutes(1);
    public int MaxAttempts { get; set; } = 6;
}
