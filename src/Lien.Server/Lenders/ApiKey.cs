using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Lenders;

internal enum ApiRole { Viewer, Operator, Admin }

/// <summary>A lender API key: only a hash of its secret is stored.</summary>
internal sealed class ApiKey
{
    public required string Id { get; set; }
    public Guid LenderId { get; set; }
    public required string Name { get; set; }
    public ApiRole Role { get; set; }
    public required byte[] SecretHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> e)
    {
        e.Property(x => x.Id).HasMaxLength(40);
        e.HasIndex(x => x.LenderId);
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}
