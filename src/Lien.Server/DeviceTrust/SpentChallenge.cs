using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.DeviceTrust;

/// <summary>A challenge an accepted enrollment used; kept until it expires, so it is accepted once.</summary>
internal sealed class SpentChallenge
{
    /// <summary>The challenge's random and MAC bytes (its unique part).</summary>
    public required byte[] Id { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

internal sealed class SpentChallengeConfiguration : IEntityTypeConfiguration<SpentChallenge>
{
    public void Configure(EntityTypeBuilder<SpentChallenge> e)
    {
        e.HasKey(x => x.Id);
        e.Property(x => x.Id).HasMaxLength(31);
        e.HasIndex(x => x.ExpiresAt);
    }
}
