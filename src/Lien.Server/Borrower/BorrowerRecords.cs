using Lien.Server.Lenders;
using Lien.Server.Plans;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Borrower;

/// <summary>
/// A request to pay that a borrower made (pay page or USSD) and the provider took: Lien's own id names it in the pay page's
/// address, so the holder of one plan's link can follow only that plan's requests. The phone is kept masked.
/// </summary>
internal sealed class PayRequest
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public Guid PlanId { get; set; }

    /// <summary>The provider's id for the request (<see cref="Payments.IPaymentRequests.StatusAsync"/>).</summary>
    public required string ProviderRequestId { get; set; }
    public required string Channel { get; set; }
    public long Amount { get; set; }
    public required string PhoneMasked { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class PayRequestConfiguration : IEntityTypeConfiguration<PayRequest>
{
    public void Configure(EntityTypeBuilder<PayRequest> e)
    {
        e.Property(x => x.ProviderRequestId).HasMaxLength(100);
        e.Property(x => x.Channel).HasMaxLength(16);
        e.Property(x => x.PhoneMasked).HasMaxLength(24);
        e.HasIndex(x => new { x.PlanId, x.CreatedAt });
        e.HasOne<Plan>().WithMany().HasForeignKey(x => x.PlanId);
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}

/// <summary>A borrower asked to be called back (USSD, SMS): staff list them (<c>GET /v1/callback-requests</c>) and mark them done.</summary>
internal sealed class CallbackRequest
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public Guid PlanId { get; set; }

    /// <summary>The number to call, E.164 (the dialling number).</summary>
    public required string Phone { get; set; }
    public required string Channel { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? DoneAt { get; set; }
    public string? DoneBy { get; set; }
    public string? Note { get; set; }
}

internal sealed class CallbackRequestConfiguration : IEntityTypeConfiguration<CallbackRequest>
{
    public void Configure(EntityTypeBuilder<CallbackRequest> e)
    {
        e.Property(x => x.Phone).HasMaxLength(16);
        e.Property(x => x.Channel).HasMaxLength(16);
        e.Property(x => x.DoneBy).HasMaxLength(100);
        e.Property(x => x.Note).HasMaxLength(500);
        e.HasIndex(x => new { x.LenderId, x.Id });
        e.HasIndex(x => new { x.PlanId, x.DoneAt });
        e.HasOne<Plan>().WithMany().HasForeignKey(x => x.PlanId);
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}

/// <summary>
/// An SMS a borrower sent to the lender's number (Africa's Talking's incoming-message callback), kept by the provider's id
/// so a message delivered twice is answered once; what it asked and how it was answered.
/// </summary>
internal sealed class IncomingSms
{
    /// <summary>The provider's id of the message.</summary>
    public required string Id { get; set; }
    public required string From { get; set; }
    public required string Keyword { get; set; }
    public Guid? PlanId { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
}

internal sealed class IncomingSmsConfiguration : IEntityTypeConfiguration<IncomingSms>
{
    public void Configure(EntityTypeBuilder<IncomingSms> e)
    {
        e.Property(x => x.Id).HasMaxLength(100);
        e.Property(x => x.From).HasMaxLength(16);
        e.Property(x => x.Keyword).HasMaxLength(16);
    }
}
