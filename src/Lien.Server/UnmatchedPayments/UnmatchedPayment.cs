using Lien.Server.Payments;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.UnmatchedPayments;

internal enum UnmatchedState { Open, Assigned, RefundDue }

/// <summary>
/// Money that arrived naming no plan (or only nearly one): held here until staff assign it to a plan or mark it for
/// refund. Never deleted; the provider's transaction is its key, so it is held once however often it arrives.
/// </summary>
internal sealed class UnmatchedPayment
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public required string Provider { get; set; }
    public required string ProviderTransactionId { get; set; }

    /// <summary>What the payer typed as the account, as it came.</summary>
    public required string AccountReference { get; set; }
    public long Amount { get; set; }
    public required string Currency { get; set; }

    /// <summary>The payer's number as the provider gave it (M-Pesa masks it), and name.</summary>
    public string? Payer { get; set; }
    public string? PayerName { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Why it matched nothing (<see cref="MatchRule.None"/>, <see cref="MatchRule.NearMiss"/>, <see cref="MatchRule.Ambiguous"/>).</summary>
    public MatchRule Rule { get; set; }
    public string? Note { get; set; }

    /// <summary>A plan one character off what was typed: proposed to staff, never applied by itself.</summary>
    public Guid? ProposedPlanId { get; set; }

    public UnmatchedState State { get; set; }
    public Guid? PlanId { get; set; }
    public Guid? PaymentId { get; set; }
    public string? Reason { get; set; }
    public string? ResolvedBy { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }

    /// <summary>Bumped on every change: an assignment and a refund mark of one item cannot both win.</summary>
    public int Version { get; set; }
}

internal sealed class UnmatchedPaymentConfiguration : IEntityTypeConfiguration<UnmatchedPayment>
{
    public void Configure(EntityTypeBuilder<UnmatchedPayment> e)
    {
        e.Property(x => x.Provider).HasMaxLength(64);
        e.Property(x => x.ProviderTransactionId).HasMaxLength(128);
        e.Property(x => x.AccountReference).HasMaxLength(64);
        e.Property(x => x.Currency).HasMaxLength(3);
        e.Property(x => x.Payer).HasMaxLength(32);
        e.Property(x => x.PayerName).HasMaxLength(200);
        e.Property(x => x.Note).HasMaxLength(200);
        e.Property(x => x.Reason).HasMaxLength(500);
        e.Property(x => x.ResolvedBy).HasMaxLength(200);
        e.Property(x => x.Version).IsConcurrencyToken();
        e.HasIndex(x => new { x.LenderId, x.Provider, x.ProviderTransactionId }).IsUnique();
        e.HasIndex(x => new { x.LenderId, x.State, x.Id });
    }
}
