using System.Collections.Concurrent;
using System.Text.Json;
using Lien.Protocol;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lien.Server.Lenders;

/// <summary>A lender (tenant): every other row belongs to one.</summary>
internal sealed class Lender
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public string? LogoUrl { get; set; }
    public string? SupportPhone { get; set; }
    public string? ShortCode { get; set; }
    public string? SupportUrl { get; set; }

    /// <summary>The mobile-money paybill (business) number borrowers pay to, with their plan's reference as the account.</summary>
    public string? Paybill { get; set; }
    public required string TimeZone { get; set; }
    public required string Currency { get; set; }
    public required string PolicyProfile { get; set; }
    public long OfflineAllowanceSeconds { get; set; }

    /// <summary>The lender's changes to its profile (<see cref="ProfileOverrides"/> as JSON), null for none.</summary>
    public string? PolicyOverridesJson { get; set; }
    /// <summary>The lender's own settlement hold in hours (<see cref="LenderSettings.SettlementHoldHours"/>); null: the profile's.</summary>
    public int? SettlementHoldHours { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Offline codes for keypad phones: written with the keys 1-4 only (15 digits instead of 9).</summary>
    public bool CodeRestrictedDigitSet { get; set; }

    /// <summary>Offline code value units per day (1: a code's value is days; 24: hours).</summary>
    public int CodeTimeDivider { get; set; } = 1;

    /// <summary>What a phone must show to enroll (<see cref="Lenders.EnrollmentPolicy"/>).</summary>
    public EnrollmentPolicy EnrollmentPolicy { get; set; } = EnrollmentPolicy.Attested;

    /// <summary>The published lease-signing keys as JSON (a copy of LenderKeys, kept here for the check-in hot path).</summary>
    public string TrustKeysJson { get; set; } = "[]";

    /// <summary>
    /// The lender's current key-set statement (a <see cref="KeySetStatement"/> as JSON), re-made and re-signed at every
    /// rotation and revocation; check-in and enrollment answers carry it as it is.
    /// </summary>
    public string KeySetJson { get; set; } = "";

    /// <summary>The version of <see cref="KeySetJson"/>: raised by every rotation and revocation.</summary>
    public long KeySetVersion { get; set; }

    /// <summary>The keys a device or auditor trusts for this lender's leases (see <see cref="SigningKeys"/>).</summary>
    public IReadOnlyList<TrustKey> TrustKeys() => SigningKeys.Published(TrustKeysJson);

    /// <summary>What the policy needs to know of the lender: its lock screen, time zone, offline allowance and profile.</summary>
    public LenderTerms Terms() => new(Name, LogoUrl, SupportPhone, ShortCode, SupportUrl,
        TimeZoneInfo.FindSystemTimeZoneById(TimeZone), TimeSpan.FromSeconds(OfflineAllowanceSeconds), Profile());

    /// <summary>
    /// The lender's profile with its overrides, and its own settlement hold (<see cref="SettlementHoldHours"/>) over the
    /// profile's; read once per distinct setting: every review of a plan asks for it.
    /// </summary>
    public Protocol.Lending.PolicyProfile Profile() => Profiles.GetOrAdd((PolicyProfile, PolicyOverridesJson, SettlementHoldHours), static k =>
    {
        var profile = Protocol.Lending.PolicyProfile.Resolve(k.Name, Overrides(k.Json)) ?? Protocol.Lending.PolicyProfile.Standard;
        return k.Hold is { } hours ? profile with { SettlementHold = TimeSpan.FromHours(hours) } : profile;
    });

    /// <summary>The stored overrides, or null.</summary>
    public static ProfileOverrides? Overrides(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<ProfileOverrides>(json, Api.Json.Options);

    private static readonly ConcurrentDictionary<(string Name, string? Json, int? Hold), Protocol.Lending.PolicyProfile> Profiles = new();
}

internal sealed class LenderConfiguration : IEntityTypeConfiguration<Lender>
{
    public void Configure(EntityTypeBuilder<Lender> e)
    {
        e.Property(x => x.Name).HasMaxLength(200);
        e.Property(x => x.TimeZone).HasMaxLength(64);
        e.Property(x => x.Currency).HasMaxLength(3);
        e.Property(x => x.Paybill).HasMaxLength(10);
        e.Property(x => x.PolicyProfile).HasMaxLength(32);
        e.Property(x => x.PolicyOverridesJson).HasMaxLength(4000);
    }
}
