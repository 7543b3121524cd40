using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Lenders;

/// <summary>
/// A lender's P-256 lease-signing key. The private half is sealed at rest; retired keys stay published until revoked,
/// and a revoked key is trusted for nothing again.
/// </summary>
internal sealed class LenderKey
{
    public required string Kid { get; set; }
    public Guid LenderId { get; set; }
    public required byte[] PublicKey { get; set; }
    public required byte[] SealedPrivateKey { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RetiredAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class LenderKeyConfiguration : IEntityTypeConfiguration<LenderKey>
{
    public void Configure(EntityTypeBuilder<LenderKey> e)
    {
        e.HasKey(x => x.Kid);
        e.Property(x => x.Kid).HasMaxLength(40);
        e.HasIndex(x => x.LenderId);
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}
