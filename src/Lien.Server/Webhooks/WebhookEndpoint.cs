using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Webhooks;

/// <summary>
/// A lender's URL that receives webhooks (Standard Webhooks): the event types it wants (null: every type), its signing
/// secret (sealed; shown once, at creation), and whether it is disabled — by staff, or by the sender after every
/// delivery failed for <see cref="WebhookOptions.DisableAfter"/> — and why.
/// </summary>
internal sealed class WebhookEndpoint
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public required string Url { get; set; }
    public string? Description { get; set; }

    /// <summary>The event types delivered, comma-separated; null for every type.</summary>
    public string? EventTypes { get; set; }

    /// <summary>The 32-byte signing key behind the <c>whsec_</c> secret, sealed under the master key.</summary>
    public required byte[] SecretSealed { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? DisabledAt { get; set; }
    public string? DisabledReason { get; set; }

    /// <summary>Since when every delivery failed (the first failure after the last success); null while deliveries succeed.</summary>
    public DateTimeOffset? FailingSince { get; set; }

    public IReadOnlyList<string>? Types() => EventTypes?.Split(',');

    public const string SecretPurpose = "webhook-secret";
}

internal sealed class WebhookEndpointConfiguration : IEntityTypeConfiguration<WebhookEndpoint>
{
    public void Configure(EntityTypeBuilder<WebhookEndpoint> e)
    {
        e.Property(x => x.Url).HasMaxLength(WebhookLimits.UrlLength);
        e.Property(x => x.Description).HasMaxLength(WebhookLimits.DescriptionLength);
        e.Property(x => x.EventTypes).HasMaxLength(1000);
        e.Property(x => x.DisabledReason).HasMaxLength(500);
        e.HasIndex(x => new { x.LenderId, x.CreatedAt });
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}

internal enum WebhookDeliveryStatus { Pending, Delivered, Failed }

/// <summary>
/// One event owed to one endpoint (the outbox row, written in the event's own transaction), and what became of it:
/// attempts, the last answer's status code or error, when the next attempt is due.
/// </summary>
internal sealed class WebhookMessage : IOutboxRow
{
    /// <summary>Also the <c>webhook-id</c> header (<c>msg_</c> + 32 hex digits): the same on every attempt, for the receiver's idempotency.</summary>
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public Guid EndpointId { get; set; }
    public required string EventType { get; set; }

    /// <summary>The JSON body as it is sent: <c>{"type", "timestamp", "data"}</c>.</summary>
    public required string Payload { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public WebhookDeliveryStatus Status { get; set; }

    /// <summary>When the next attempt is due (claimed attempts move it ahead); null once delivered or failed.</summary>
    public DateTimeOffset? DueAt { get; set; }

    /// <summary>Attempts stop after this instant (3 days after the event, or after a redelivery was asked for).</summary>
    public DateTimeOffset RetryUntil { get; set; }

    public int Attempts { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }

    public string WebhookId => "msg_" + Id.ToString("N");
}

internal sealed class WebhookMessageConfiguration : IEntityTypeConfiguration<WebhookMessage>
{
    public void Configure(EntityTypeBuilder<WebhookMessage> e)
    {
        e.Property(x => x.EventType).HasMaxLength(64);
        e.Property(x => x.LastError).HasMaxLength(500);
        e.Ignore(x => x.WebhookId);
        // What the sender reads: the due messages, a handful among all those delivered.
        e.HasIndex(x => x.DueAt).HasFilter("\"DueAt\" IS NOT NULL").HasDatabaseName("IX_WebhookMessages_Due");
        e.HasIndex(x => new { x.EndpointId, x.Id });
        e.HasOne<WebhookEndpoint>().WithMany().HasForeignKey(x => x.EndpointId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}

internal static class WebhookLimits
{
    public const int UrlLength = 500;
    public const int DescriptionLength = 200;
    public const int EndpointsPerLender = 20;
}
