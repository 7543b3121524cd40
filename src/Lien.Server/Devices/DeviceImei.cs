using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Devices;

/// <summary>One IMEI claimed by a device. An IMEI is claimed by at most one unreleased device (a filtered unique index).</summary>
internal sealed class DeviceImei
{
    public required string Imei { get; set; }
    public Guid DeviceId { get; set; }
    public Guid LenderId { get; set; }
    public DateTimeOffset? ReleasedAt { get; set; }
}

internal sealed class DeviceImeiConfiguration : IEntityTypeConfiguration<DeviceImei>
{
    public void Configure(EntityTypeBuilder<DeviceImei> e)
    {
        e.HasKey(x => new { x.Imei, x.DeviceId });
        e.Property(x => x.Imei).HasMaxLength(15);
        // The rule "an IMEI cannot be registered twice unless its earlier device was released", as the database enforces it.
        e.HasIndex(x => x.Imei).IsUnique().HasFilter("\"ReleasedAt\" IS NULL").HasDatabaseName("IX_DeviceImeis_Imei_Unreleased");
        e.HasOne<Device>().WithMany().HasForeignKey(x => x.DeviceId);
    }
}
