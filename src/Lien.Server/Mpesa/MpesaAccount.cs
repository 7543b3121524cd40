using Lien.Server.Lenders;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Mpesa;

/// <summary>
/// A lender's M-Pesa (Safaricom Daraja) account: its paybill, the app's consumer key and secret, the Lipa na M-Pesa
/// Online passkey and the initiator's credential, sealed at rest under the master key (<c>SecretBox</c>, purpose
/// <see cref="SealPurpose"/>); the callbacks' path secret, by which Daraja's unsigned callbacks find their lender.
/// </summary>
internal sealed class MpesaAccount
{
    public const string SealPurpose = "mpesa-account";

    public Guid LenderId { get; set; }
    public required string ShortCode { get; set; }
    public required byte[] ConsumerKey { get; set; }
    public required byte[] ConsumerSecret { get; set; }
    public required byte[] Passkey { get; set; }

    /// <summary>The Transaction Status query's initiator (an API operator of the paybill) and its encrypted credential, if given.</summary>
    public string? InitiatorName { get; set; }
    public byte[]? SecurityCredential { get; set; }

    /// <summary>Daraja's address: <c>https://api.safaricom.co.ke/</c>, or <c>https://sandbox.safaricom.co.ke/</c>.</summary>
    public required string BaseUrl { get; set; }

    /// <summary>Where Daraja reaches this Lien (public https), the callbacks' URLs begin with it.</summary>
    public required string CallbackBaseUrl { get; set; }

    /// <summary>SHA-256 of the path secret (hex): what a callback's path is looked up by.</summary>
    public required string PathSecretHash { get; set; }

    /// <summary>The path secret itself, sealed: Lien writes it into the URLs it registers and sends.</summary>
    public required byte[] PathSecret { get; set; }

    /// <summary>Addresses or networks (CIDR) callbacks may come from, comma-separated; none: any.</summary>
    public string? AllowedSources { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class MpesaAccountConfiguration : IEntityTypeConfiguration<MpesaAccount>
{
    public void Configure(EntityTypeBuilder<MpesaAccount> e)
    {
        e.HasKey(x => x.LenderId);
        e.Property(x => x.ShortCode).HasMaxLength(16);
        e.Property(x => x.InitiatorName).HasMaxLength(64);
        e.Property(x => x.BaseUrl).HasMaxLength(500);
        e.Property(x => x.CallbackBaseUrl).HasMaxLength(500);
        e.Property(x => x.PathSecretHash).HasMaxLength(64);
        e.Property(x => x.AllowedSources).HasMaxLength(2000);
        e.HasIndex(x => x.PathSecretHash).IsUnique();
        e.HasOne<Lender>().WithOne().HasForeignKey<MpesaAccount>(x => x.LenderId);
    }
}
