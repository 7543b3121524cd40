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
    public required string TimeZone { get; set; }
    public required string Currency { get; set; }
    public required string PolicyProfile { get; set; }
    public long OfflineAllowanceSeconds { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Offline codes for keypad phones: written with the keys 1-4 only (15 digits instead of 9).</summary>
    public bool CodeRestrictedDigitSet { get; set; }

    /// <summary>Offline code value units per day (1: a code's value is days; 24: hours).</summary>
    public int CodeTimeDivider { get; set; } = 1;

    /// <summary>The published lease-signing keys as JSON (a copy of LenderKeys, kept here for the check-in hot path).</summary>
    public string TrustKeysJson { get; set; } = "[]";
}

/// <summary>A lender's P-256 lease-signing key. The private half is sealed at rest; retired keys stay published.</summary>
internal sealed class LenderKey
{
    public required string Kid { get; set; }
    public Guid LenderId { get; set; }
    public required byte[] PublicKey { get; set; }
    public required byte[] SealedPrivateKey { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RetiredAt { get; set; }
}

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
