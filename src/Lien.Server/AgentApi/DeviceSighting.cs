using Lien.Server.Devices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.AgentApi;

/// <summary>When a device last checked in. A narrow table of its own: the frequent write never rewrites the wide device row.</summary>
internal sealed class DeviceSighting
{
    public Guid DeviceId { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }
}

internal sealed class DeviceSightingConfiguration : IEntityTypeConfiguration<DeviceSighting>
{
    public void Configure(EntityTypeBuilder<DeviceSighting> e)
    {
        e.HasKey(x => x.DeviceId);
        e.HasOne<Device>().WithOne().HasForeignKey<DeviceSighting>(x => x.DeviceId);
    }
}
