using Lien.Server.Devices;
using Lien.Server.Lenders;
using Lien.Server.Plans;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Certificates;

/// <summary>
/// A payoff certificate as issued at a paid-off plan's release: the signed JWS (the certificate itself) and what finds it.
/// Its id is random, not time-ordered: the public page names it, so certificates cannot be walked by guessing ids.
/// </summary>
internal sealed class PayoffCertificate
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public Guid PlanId { get; set; }
    public Guid DeviceId { get; set; }
    public DateTimeOffset IssuedAt { get; set; }
    public required string Kid { get; set; }
    public required string Jws { get; set; }
}

internal sealed class PayoffCertificateConfiguration : IEntityTypeConfiguration<PayoffCertificate>
{
    public void Configure(EntityTypeBuilder<PayoffCertificate> e)
    {
        e.ToTable("PayoffCertificates");
        e.Property(x => x.Kid).HasMaxLength(40);
        e.Property(x => x.Jws).HasMaxLength(Protocol.PayoffCertificateClaims.MaxLength);
        // A plan's device is released once (Released is final), so a plan has at most one certificate.
        e.HasIndex(x => x.PlanId).IsUnique();
        e.HasOne<Plan>().WithMany().HasForeignKey(x => x.PlanId);
        e.HasOne<Device>().WithMany().HasForeignKey(x => x.DeviceId);
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}
