using Lien.Server.Storage;

namespace Lien.Server.Webhooks;

/// <summary>How webhooks are sent (<c>Lien:Webhooks</c>).</summary>
internal sealed class WebhookOptions
{
    /// <summary>How often the sender looks for due deliveries; zero turns the sender off on this node (another node sends).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a receiver has to answer one attempt.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Failed attempts are retried, with exponential backoff, for this long after the event.</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromDays(3);

    /// <summary>The wait after the first failed attempt; each later one doubles it, up to <see cref="MaxRetryInterval"/>.</summary>
    public TimeSpan FirstRetry { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxRetryInterval { get; set; } = TimeSpan.FromHours(8);

    /// <summary>An endpoint whose every delivery failed for this long is disabled, and says so.</summary>
    public TimeSpan DisableAfter { get; set; } = TimeSpan.FromDays(5);

    /// <summary>
    /// How long a node's copy of a lender's endpoints is trusted. Changes made on this node, and on other nodes of one
    /// PostgreSQL (announced by NOTIFY), are seen at once; this bounds how stale a copy can be if an announcement is lost.
    /// </summary>
    public TimeSpan SubscriptionCacheTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The wait before attempt <paramref name="attempts"/> + 1, after <paramref name="attempts"/> failed ones.</summary>
    public TimeSpan Backoff(int attempts) => OutboxSender.Backoff(FirstRetry, MaxRetryInterval, attempts);
}
