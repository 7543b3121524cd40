namespace Lien.Server.DeviceTrust;

/// <summary>
/// What a verified Android Key Attestation chain vouches for, as enrollment needs it: the key was made in secure
/// hardware (<see cref="SecurityLevel"/>) with the enrollment's challenge, on a phone with these attested IMEIs (none
/// when the phone did not attest its identifiers).
/// </summary>
internal sealed record AttestationEvidence(string SecurityLevel, string VerifiedBootState, IReadOnlyList<string> Imeis, string? Brand, string? Model)
{
    /// <summary>How the lender sees it on the device: "attested: StrongBox, google Pixel 8".</summary>
    public string Summary() => $"attested: {SecurityLevel}" + (Brand is null && Model is null ? "" : $", {Brand} {Model}".TrimEnd());
}
