using Lien.Protocol;
using Lien.Server.Lenders;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Devices;

/// <summary>A financed phone, registered by IMEI. Carries a copy of its current lease for the check-in hot path.</summary>
internal sealed class Device
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public required string Imei { get; set; }
    public string? Imei2 { get; set; }
    public string? Serial { get; set; }
    public string? Make { get; set; }
    public string? Model { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ReleasedAt { get; set; }

    /// <summary>When the lender last took the phone back (its plan closed); it is financed again only once restocked after it.</summary>
    public DateTimeOffset? RepossessedAt { get; set; }

    /// <summary>When the lender last put the taken-back phone in stock (its enrollment ended): it may be financed on a new plan.</summary>
    public DateTimeOffset? RestockedAt { get; set; }

    /// <summary>Taken back and not yet in stock again.</summary>
    public bool AwaitingRestock => RepossessedAt is { } r && (RestockedAt is not { } s || s < r);

    public byte[]? PublicKey { get; set; }
    public DateTimeOffset? EnrolledAt { get; set; }
    public int TokenEpoch { get; set; }

    /// <summary>What the current enrollment showed (e.g. "attested: StrongBox, google Pixel 8", "enrollment token", "open").</summary>
    public string? EnrolledWith { get; set; }
    public long AppliedSeq { get; set; }

    /// <summary>Acks and appliedSeqs refused for naming a seq above any issued (409): a broken or hostile agent.</summary>
    public int RefusedAcks { get; set; }

    /// <summary>The FCM registration token the agent reported, for "check in now" wake-ups; null when none or invalid.</summary>
    public string? PushToken { get; set; }

    public long LeaseSeq { get; set; }
    public LeaseMode LeaseMode { get; set; }
    public DateTimeOffset? LeaseUnlockedUntil { get; set; }
    public string LeaseJws { get; set; } = "";

    /// <summary>The OpenPAYGO secret (16 bytes), sealed; a fresh one (and starting code) for every accepted enrollment.</summary>
    public byte[]? CodeSecretSealed { get; set; }
    public long CodeStartingCode { get; set; }

    /// <summary>Which secret the device holds: 1 for its first enrollment's, one more for each later one; 0 before any.</summary>
    public int CodeSecretVersion { get; set; }

    /// <summary>The token count after the last code issued under the current secret: never reused under it, so a concurrency token.</summary>
    public int CodeCount { get; set; }

    /// <summary>How many wrong codes the agent reported at check-in (cumulative since it enrolled), and when it first reported that many.</summary>
    public int WrongCodes { get; set; }
    public DateTimeOffset? WrongCodesReportedAt { get; set; }

    public IReadOnlyList<string> Imeis => Imei2 is null ? [Imei] : [Imei, Imei2];
}

internal sealed class DeviceConfiguration : IEntityTypeConfiguration<Device>
{
    public void Configure(EntityTypeBuilder<Device> e)
    {
        e.Property(x => x.Imei).HasMaxLength(15);
        e.Property(x => x.Imei2).HasMaxLength(15);
        e.Property(x => x.PushToken).HasMaxLength(1024);
        e.Property(x => x.EnrolledWith).HasMaxLength(200);
        e.Property(x => x.CodeCount).IsConcurrencyToken();
        e.Property(x => x.CodeSecretVersion).IsConcurrencyToken();
        e.Ignore(x => x.Imeis);
        e.HasIndex(x => new { x.LenderId, x.CreatedAt, x.Id });
        e.HasIndex(x => new { x.LenderId, x.Imei });
        e.HasIndex(x => new { x.LenderId, x.Serial });
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}
