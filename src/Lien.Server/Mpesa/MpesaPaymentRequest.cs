using Lien.Server.Plans;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Mpesa;

/// <summary>Where a Lipa na M-Pesa Online (STK push) request stands.</summary>
internal enum MpesaRequestState { Pending, Paid, Cancelled, TimedOut, Failed }

/// <summary>
/// One STK push Lien asked Daraja for: the prompt on the borrower's phone, then its callback (or, when that never comes,
/// the Transaction Status query's result) ends it. Paid records the payment through the ledger on the receipt number.
/// </summary>
internal sealed class MpesaPaymentRequest
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public Guid PlanId { get; set; }
    public required string Phone { get; set; }
    public long Amount { get; set; }
    public required string Currency { get; set; }

    /// <summary>Who asked: <c>api</c>, <c>pay-page</c>, <c>ussd</c>, <c>sms</c>…</summary>
    public required string Channel { get; set; }
    public required string MerchantRequestId { get; set; }
    public required string CheckoutRequestId { get; set; }
    public MpesaRequestState State { get; set; }
    public int? ResultCode { get; set; }
    public string? ResultDesc { get; set; }
    public string? Receipt { get; set; }
    public Guid? PaymentId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>When the reconciler last asked Daraja for the status (its callback never came), and the query's id.</summary>
    public DateTimeOffset? StatusQueriedAt { get; set; }
    public string? StatusConversationId { get; set; }
    public int Version { get; set; }
}

internal sealed class MpesaPaymentRequestConfiguration : IEntityTypeConfiguration<MpesaPaymentRequest>
{
    public void Configure(EntityTypeBuilder<MpesaPaymentRequest> e)
    {
        e.Property(x => x.Phone).HasMaxLength(16);
        e.Property(x => x.Currency).HasMaxLength(3);
        e.Property(x => x.Channel).HasMaxLength(32);
        e.Property(x => x.MerchantRequestId).HasMaxLength(64);
        e.Property(x => x.CheckoutRequestId).HasMaxLength(64);
        e.Property(x => x.ResultDesc).HasMaxLength(200);
        e.Property(x => x.Receipt).HasMaxLength(32);
        e.Property(x => x.StatusConversationId).HasMaxLength(64);
        e.Property(x => x.Version).IsConcurrencyToken();
        e.HasIndex(x => new { x.LenderId, x.CheckoutRequestId }).IsUnique();
        e.HasIndex(x => new { x.State, x.CreatedAt });
        e.HasIndex(x => new { x.LenderId, x.StatusConversationId });
        e.HasOne<Plan>().WithMany().HasForeignKey(x => x.PlanId);
    }
}
