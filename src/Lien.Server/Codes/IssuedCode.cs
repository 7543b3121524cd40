using Lien.Protocol.Codes;
using Lien.Server.Devices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Codes;

/// <summary>An offline code as issued: kept so the call centre can read it out again, and audited.</summary>
internal sealed class IssuedCode
{
    public Guid DeviceId { get; set; }
    public int Count { get; set; }
    public Guid LenderId { get; set; }
    public TokenType Type { get; set; }
    public int Value { get; set; }
    public required string Code { get; set; }
    public DateTimeOffset IssuedAt { get; set; }
    public required string Actor { get; set; }
    public required string Reason { get; set; }
}

internal sealed class IssuedCodeConfiguration : IEntityTypeConfiguration<IssuedCode>
{
    public void Configure(EntityTypeBuilder<IssuedCode> e)
    {
        e.HasKey(x => new { x.DeviceId, x.Count });
        e.Property(x => x.Type).HasConversion<string>().HasMaxLength(16);
        e.HasOne<Device>().WithMany().HasForeignKey(x => x.DeviceId);
    }
}
