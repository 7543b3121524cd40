using Lien.Server.Devices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.DeviceTrust;

/// <summary>
/// A one-time enrollment token the lender issued for one device (shown once, in the provisioning QR code); only its
/// SHA-256 is kept. Spent by the enrollment it lets in; issuing a new one for the device revokes the unspent ones.
/// </summary>
internal sealed class EnrollmentToken
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public Guid DeviceId { get; set; }
    public required byte[] Hash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? SpentAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class EnrollmentTokenConfiguration : IEntityTypeConfiguration<EnrollmentToken>
{
    public void Configure(EntityTypeBuilder<EnrollmentToken> e)
    {
        e.Property(x => x.Hash).HasMaxLength(32);
        e.HasIndex(x => x.Hash).IsUnique();
        e.HasIndex(x => x.DeviceId);
        e.HasOne<Device>().WithMany().HasForeignKey(x => x.DeviceId);
    }
}
