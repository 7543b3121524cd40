using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Api;

namespace Lien.Server.Lenders;

/// <summary>A lender's settings as the API reads and writes them. On update, a null field is left as it is.</summary>
internal sealed record LenderSettings(
    string? Name,
    string? LogoUrl,
    string? SupportPhone,
    string? ShortCode,
    string? SupportUrl,
    string? TimeZone,
    string? Currency,
    string? PolicyProfile,
    int? OfflineAllowanceHours,
    bool? CodeRestrictedDigitSet = null,
    int? CodeTimeDivider = null,
    EnrollmentPolicy? EnrollmentPolicy = null,
    ProfileOverrides? Policy = null,
    int? SettlementHoldHours = null,
    string? Paybill = null)
{
    public const int DefaultOfflineAllowanceHours = 7 * 24;

    /// <summary>The longest settlement hold a lender may set: a paid-off borrower waits at most this long for release.</summary>
    public const int MaxSettlementHoldHours = 14 * 24;

    public Errors Validate(bool creating)
    {
        var errors = new Errors()
            .Text(Name, "name", 200, required: creating)
            .Url(LogoUrl, "logoUrl")
            .Url(SupportUrl, "supportUrl")
            .Text(SupportPhone, "supportPhone", 32)
            .Text(ShortCode, "shortCode", 32)
            .Check(Paybill is null || Paybill.Length == 0 || (Paybill.Length <= 10 && Paybill.All(char.IsAsciiDigit)), "paybill",
                "paybill must be the mobile-money paybill (business) number borrowers pay to: up to 10 digits, e.g. 400200.");
        // A short name of plain text before the lookup reads the time zone database by it.
        if (creating || TimeZone is not null)
            errors.Check(TimeZone is { Length: <= 64 } zone && Errors.ControlCharacter(zone, "timeZone", lines: false) is null
                    && TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _), "timeZone",
                "timeZone must be an IANA time zone such as Africa/Nairobi.");
        if (creating || Currency is not null)
            errors.Check(Currencies.IsKnown(Currency), "currency", "currency must be an ISO 4217 code such as KES.");
        if (PolicyProfile is not null || creating)
            errors.Check(Protocol.Lending.PolicyProfile.Find(PolicyProfile ?? "standard") is not null, "policyProfile",
                $"policyProfile must be one of: {string.Join(", ", Protocol.Lending.PolicyProfile.Names)}.");
        // Overrides are judged against the profile they change, so they come with its name; a new name alone starts from its defaults.
        if (Policy is not null)
        {
            errors.Check(PolicyProfile is not null, "policy", "policy overrides are set together with policyProfile (the profile they change).");
            if (PolicyProfile is not null && Protocol.Lending.PolicyProfile.Find(PolicyProfile) is not null)
                foreach (var (field, message) in Protocol.Lending.PolicyProfile.Problems(PolicyProfile, Policy))
                    errors.Add(field, message);
        }
        if (OfflineAllowanceHours is { } h)
            errors.Check(h is >= 1 and <= 90 * 24, "offlineAllowanceHours", "offlineAllowanceHours must be between 1 and 2160 (90 days).");
        if (SettlementHoldHours is { } hold)
            errors.Check(hold is >= 0 and <= MaxSettlementHoldHours, "settlementHoldHours",
                $"settlementHoldHours must be between 0 (release at payoff) and {MaxSettlementHoldHours} (14 days).");
        if (CodeTimeDivider is { } d)
            errors.Check(d is >= 1 and <= 24, "codeTimeDivider", "codeTimeDivider must be between 1 (codes count days) and 24 (codes count hours).");
        return errors;
    }

    public void ApplyTo(Lender l)
    {
        if (Name is not null) l.Name = Name.Trim();
        if (LogoUrl is not null) l.LogoUrl = LogoUrl.Length == 0 ? null : LogoUrl;
        if (SupportPhone is not null) l.SupportPhone = SupportPhone.Length == 0 ? null : SupportPhone;
        if (ShortCode is not null) l.ShortCode = ShortCode.Length == 0 ? null : ShortCode;
        if (SupportUrl is not null) l.SupportUrl = SupportUrl.Length == 0 ? null : SupportUrl;
        if (TimeZone is not null) l.TimeZone = TimeZone;
        if (Currency is not null) l.Currency = Currency;
        if (PolicyProfile is not null)
        {
            l.PolicyProfile = PolicyProfile;
            l.PolicyOverridesJson = Policy is null ? null : JsonSerializer.Serialize(Policy, Json.Options);
        }
        if (OfflineAllowanceHours is { } h) l.OfflineAllowanceSeconds = h * 3600L;
        if (CodeRestrictedDigitSet is { } r) l.CodeRestrictedDigitSet = r;
        if (CodeTimeDivider is { } d) l.CodeTimeDivider = d;
        if (EnrollmentPolicy is { } e) l.EnrollmentPolicy = e;
        if (SettlementHoldHours is { } hold) l.SettlementHoldHours = hold;
        if (Paybill is not null) l.Paybill = Paybill.Length == 0 ? null : Paybill;
    }

    public static LenderSettings Of(Lender l) => new(l.Name, l.LogoUrl, l.SupportPhone, l.ShortCode, l.SupportUrl,
        l.TimeZone, l.Currency, l.PolicyProfile, (int)(l.OfflineAllowanceSeconds / 3600), l.CodeRestrictedDigitSet, l.CodeTimeDivider, l.EnrollmentPolicy,
        Lender.Overrides(l.PolicyOverridesJson), (int)l.Profile().SettlementHold.TotalHours, l.Paybill);
}
