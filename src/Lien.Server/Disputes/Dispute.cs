using System.Text.Json.Serialization;
using Lien.Server.Plans;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Disputes;

/// <summary>What the borrower (or staff for them) says: "I have paid" (with the transaction reference), or something else in their words.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DisputeKind>))]
internal enum DisputeKind { Paid, Other }

/// <summary>Open until staff resolve it or its bound passes (the profile's dispute hold), then Expired.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DisputeState>))]
internal enum DisputeState { Open, Resolved, Expired }

/// <summary>
/// A dispute of a plan. While open (at most until <see cref="ExpiresAt"/>) it holds a new lock back: the plan carries its
/// opening instant (<see cref="Plan.DisputeOpenedAt"/>) so a review reads no other table. One open dispute per plan.
/// </summary>
internal sealed class Dispute
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public Guid PlanId { get; set; }
    public Guid DeviceId { get; set; }
    public DisputeKind Kind { get; set; }
    public string? TransactionReference { get; set; }
    public string? Text { get; set; }

    /// <summary>"device" when the borrower opened it from the phone, else the staff actor.</summary>
    public required string OpenedBy { get; set; }
    public DateTimeOffset OpenedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DisputeState State { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    public string? ClosedBy { get; set; }
    public string? Resolution { get; set; }
}

internal sealed class DisputeConfiguration : IEntityTypeConfiguration<Dispute>
{
    public void Configure(EntityTypeBuilder<Dispute> e)
    {
        e.Property(x => x.Kind).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.State).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.TransactionReference).HasMaxLength(64);
        e.Property(x => x.Text).HasMaxLength(1000);
        e.Property(x => x.OpenedBy).HasMaxLength(100);
        e.Property(x => x.ClosedBy).HasMaxLength(100);
        e.Property(x => x.Resolution).HasMaxLength(500);
        e.HasIndex(x => new { x.LenderId, x.OpenedAt });
        e.HasIndex(x => x.PlanId).IsUnique().HasFilter("\"State\" = 'Open'").HasDatabaseName("IX_Disputes_PlanId_Open");
        e.HasOne<Plan>().WithMany().HasForeignKey(x => x.PlanId);
    }
}
