using Lien.Server.Storage;

namespace Lien.Server.Notices;

/// <summary>How SMS notices are sent (<c>Lien:Sms</c>).</summary>
internal sealed class SmsOptions
{
    /// <summary>How often the dispatcher looks for due messages; zero turns it off on this node (another node sends).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A notice the provider could not take is retried this long; a notice older than that is news no more.</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The wait after the first failed attempt; each later one doubles it, up to <see cref="MaxRetryInterval"/>.</summary>
    public TimeSpan FirstRetry { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxRetryInterval { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan Backoff(int attempts) => OutboxSender.Backoff(FirstRetry, MaxRetryInterval, attempts);
}
