using Lien.Server.Plans;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Payments;

internal enum PaymentKind { Payment, Reversal }

/// <summary>An append-only ledger entry: a payment, or the reversal of one (negative amount).</summary>
internal sealed class Payment
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public Guid PlanId { get; set; }
    public PaymentKind Kind { get; set; }
    public long Amount { get; set; }
    public required string Currency { get; set; }
    public required string Provider { get; set; }
    public required string ProviderTransactionId { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
    public DateTimeOffset RecordedAt { get; set; }
    public Guid? ReversesId { get; set; }
    public string? Reason { get; set; }
    public required string Actor { get; set; }
}

internal sealed class PaymentConfiguration : IEntityTypeConfiguration<Payment>
{
    public void Configure(EntityTypeBuilder<Payment> e)
    {
        e.Property(x => x.Currency).HasMaxLength(3);
        e.Property(x => x.Provider).HasMaxLength(64);
        e.Property(x => x.ProviderTransactionId).HasMaxLength(128);
        // The same provider transaction is recorded once, however many times and however concurrently it arrives.
        e.HasIndex(x => new { x.LenderId, x.Provider, x.ProviderTransactionId }).IsUnique();
        e.HasIndex(x => x.ReversesId).IsUnique().HasFilter("\"ReversesId\" IS NOT NULL");
        e.HasIndex(x => new { x.PlanId, x.RecordedAt });
        e.HasOne<Plan>().WithMany().HasForeignKey(x => x.PlanId);
    }
}
