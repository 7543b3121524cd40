using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Plans;

/// <summary>One installment of a plan: its number, due date and amount in minor units.</summary>
internal sealed class PlanInstallment
{
    public Guid PlanId { get; set; }
    public int Number { get; set; }
    public DateOnly DueDate { get; set; }
    public long Amount { get; set; }
}

internal sealed class PlanInstallmentConfiguration : IEntityTypeConfiguration<PlanInstallment>
{
    public void Configure(EntityTypeBuilder<PlanInstallment> e) => e.HasKey(x => new { x.PlanId, x.Number });
}
