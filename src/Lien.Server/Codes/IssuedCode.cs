using Lien.Protocol.Codes;
using Lien.Server.Devices;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Codes;

/// <summary>
/// An offline code as issued, kept so its count is never reused and the call centre sees what was issued and why.
/// <see cref="Code"/> holds its digits sealed (base64 of <see cref="SecretBox"/> under <see cref="CodeIssuer.DigitsPurpose"/>):
/// they are shown once, to whoever issued the code, and no reader of the database or the API sees them again.
/// </summary>
internal sealed class IssuedCode
{
    public Guid DeviceId { get; set; }

    /// <summary>The device secret it was made with (<see cref="Device.CodeSecretVersion"/>): a code works only while the phone holds that one.</summary>
    public int SecretVersion { get; set; }

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
