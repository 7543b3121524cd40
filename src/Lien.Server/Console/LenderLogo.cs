using Lien.Server.Lenders;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Console;

/// <summary>
/// A lender's logo, uploaded in the console and served by Lien at <c>/logos/{lenderId}</c> (the lock screen's logo URL):
/// PNG, JPEG or WebP by its first bytes, at most <see cref="MaxBytes"/>.
/// </summary>
internal sealed class LenderLogo
{
    public const int MaxBytes = 256 * 1024;

    public Guid LenderId { get; set; }
    public required string ContentType { get; set; }
    public required byte[] Bytes { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The image type by its signature, or null: the name and the browser's claimed type are not believed.</summary>
    public static string? TypeOf(ReadOnlySpan<byte> b) =>
        b.StartsWith((byte[])[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) ? "image/png"
        : b.StartsWith((byte[])[0xFF, 0xD8, 0xFF]) ? "image/jpeg"
        : b.Length >= 12 && b[..4].SequenceEqual("RIFF"u8) && b[8..12].SequenceEqual("WEBP"u8) ? "image/webp"
        : null;
}

internal sealed class LenderLogoConfiguration : IEntityTypeConfiguration<LenderLogo>
{
    public void Configure(EntityTypeBuilder<LenderLogo> e)
    {
        e.ToTable("LenderLogos");
        e.HasKey(x => x.LenderId);
        e.Property(x => x.ContentType).HasMaxLength(16);
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}
