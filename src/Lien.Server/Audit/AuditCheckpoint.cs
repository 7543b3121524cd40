using Lien.Protocol;
using Lien.Server.Lenders;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Audit;

/// <summary>
/// A lender's audit chain head at one moment, signed with the lender's signing key (JWS, ES256, typ
/// <see cref="AuditCheckpointClaims.MediaType"/>): anyone holding the lender's published keys can check it, and a copy
/// kept outside the database shows whether events up to <see cref="Seq"/> were later deleted or changed.
/// </summary>
internal sealed class AuditCheckpoint
{
    public long Id { get; set; }
    public Guid LenderId { get; set; }
    public long Seq { get; set; }
    public required string Hash { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Jws { get; set; }
}

internal sealed class AuditCheckpointConfiguration : IEntityTypeConfiguration<AuditCheckpoint>
{
    public void Configure(EntityTypeBuilder<AuditCheckpoint> e)
    {
        e.HasIndex(x => new { x.LenderId, x.Seq }).IsUnique();
        e.Property(x => x.Hash).HasMaxLength(64);
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}
