using Lien.Server.Devices;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Notices;

internal enum SmsStatus { Queued, Sent, Delivered, Failed }

/// <summary>
/// A notice owed to a borrower by SMS (the outbox row, written in the transaction of the review that decided the notice),
/// and what became of it: attempts, the provider's answer and its delivery report.
/// </summary>
internal sealed partial class SmsMessage : IOutboxRow
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public Guid DeviceId { get; set; }
    public Guid PlanId { get; set; }
    public required string Kind { get; set; }
    public required string Language { get; set; }

    /// <summary>The borrower's number, E.164.</summary>
    public required string To { get; set; }
    public required string Text { get; set; }
    public SmsEncoding Encoding { get; set; }
    public int Segments { get; set; }

    /// <summary>The lease that carried the same notice to the phone.</summary>
    public long LeaseSeq { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public SmsStatus Status { get; set; }

    /// <summary>When the next attempt is due (a claim moves it ahead); null once the provider took it or it failed.</summary>
    public DateTimeOffset? DueAt { get; set; }
    public DateTimeOffset RetryUntil { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }

    /// <summary>Which provider took it (<see cref="ISmsSender.Name"/>), its id for the message, its status words and code, and the cost it reported.</summary>
    public string? Provider { get; set; }
    public string? ProviderMessageId { get; set; }
    public string? ProviderStatus { get; set; }
    public int? ProviderStatusCode { get; set; }
    public string? Cost { get; set; }

    /// <summary>Why it was not sent or not delivered (the provider's words), or the last attempt's error while it is retried.</summary>
    public string? Error { get; set; }

    /// <summary>The kind of a message that carries an unlock code: its text is never shown, and not kept once sent.</summary>
    public const string CodeKind = "code";

    /// <summary>The text as staff may read it: an unlock code's digits masked.</summary>
    public string ShownText => Kind == CodeKind ? Masked(Text) : Text;

    /// <summary>Drops what only the borrower's phone needed: an unlock code's digits, once the provider has the message (or never will).</summary>
    public void Forget()
    {
        if (Kind == CodeKind) Text = Masked(Text);
    }

    private static string Masked(string text) => Digits().Replace(text, d => new string('•', d.Length));

    [System.Text.RegularExpressions.GeneratedRegex("[0-9]")]
    private static partial System.Text.RegularExpressions.Regex Digits();
}

internal sealed class SmsMessageConfiguration : IEntityTypeConfiguration<SmsMessage>
{
    public void Configure(EntityTypeBuilder<SmsMessage> e)
    {
        e.Property(x => x.Kind).HasMaxLength(32);
        e.Property(x => x.Language).HasMaxLength(8);
        e.Property(x => x.To).HasMaxLength(16);
        e.Property(x => x.Text).HasMaxLength(SmsTemplates.MaxLength * 2);
        e.Property(x => x.Provider).HasMaxLength(32);
        e.Property(x => x.ProviderMessageId).HasMaxLength(100);
        e.Property(x => x.ProviderStatus).HasMaxLength(64);
        e.Property(x => x.Cost).HasMaxLength(32);
        e.Property(x => x.Error).HasMaxLength(500);
        e.HasIndex(x => x.DueAt).HasFilter("\"DueAt\" IS NOT NULL").HasDatabaseName("IX_SmsMessages_Due");
        e.HasIndex(x => x.ProviderMessageId);
        e.HasIndex(x => new { x.LenderId, x.Id });
        e.HasOne<Device>().WithMany().HasForeignKey(x => x.DeviceId);
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}

/// <summary>A lender's own text for one kind of notice in one language, in place of Lien's (<see cref="SmsTemplates"/>).</summary>
internal sealed class NoticeTemplate
{
    public Guid LenderId { get; set; }
    public required string Language { get; set; }
    public required string Kind { get; set; }
    public required string Text { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class NoticeTemplateConfiguration : IEntityTypeConfiguration<NoticeTemplate>
{
    public void Configure(EntityTypeBuilder<NoticeTemplate> e)
    {
        e.HasKey(x => new { x.LenderId, x.Language, x.Kind });
        e.Property(x => x.Language).HasMaxLength(8);
        e.Property(x => x.Kind).HasMaxLength(32);
        e.Property(x => x.Text).HasMaxLength(SmsTemplates.MaxLength);
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}
