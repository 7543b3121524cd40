using Lien.Server.Devices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Push;

/// <summary>A push wake-up owed to a device for lease <see cref="Seq"/>; written in the lease's own transaction (the outbox).</summary>
internal sealed class PushMessage
{
    public long Id { get; set; }
    public Guid DeviceId { get; set; }
    public long Seq { get; set; }
    public DateTimeOffset DueAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
}

internal sealed class PushMessageConfiguration : IEntityTypeConfiguration<PushMessage>
{
    public void Configure(EntityTypeBuilder<PushMessage> e)
    {
        e.HasIndex(x => x.DueAt);
        e.HasOne<Device>().WithMany().HasForeignKey(x => x.DeviceId);
    }
}
