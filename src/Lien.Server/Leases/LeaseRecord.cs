using Lien.Protocol;
using Lien.Server.Devices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Leases;

/// <summary>A lease as issued: the signed JWS and the fields it was made from. Never changed once written.</summary>
internal sealed class LeaseRecord
{
    public Guid DeviceId { get; set; }
    public long Seq { get; set; }
    public Guid LenderId { get; set; }
    public LeaseMode Mode { get; set; }
    public DateTimeOffset IssuedAt { get; set; }
    public DateTimeOffset? UnlockedUntil { get; set; }
    public required string ScreenJson { get; set; }
    public required string Reason { get; set; }

    /// <summary>The lease's notice (<see cref="Notice"/> as JSON), null when it carries none.</summary>
    public string? NoticeJson { get; set; }
    public required string Cause { get; set; }
    public required string Kid { get; set; }
    public required string Jws { get; set; }

    /// <summary>When the row was written (full precision; <see cref="IssuedAt"/> is whole seconds), for apply latency.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the device acknowledged applying it; null until then.</summary>
    public DateTimeOffset? AppliedAt { get; set; }
}

internal sealed class LeaseRecordConfiguration : IEntityTypeConfiguration<LeaseRecord>
{
    public void Configure(EntityTypeBuilder<LeaseRecord> e)
    {
        e.ToTable("Leases");
        e.HasKey(x => new { x.DeviceId, x.Seq });
        e.HasOne<Device>().WithMany().HasForeignKey(x => x.DeviceId);
    }
}
