namespace Lien.Server.Lenders;

/// <summary>
/// What a phone must show to enroll as one of the lender's registered devices (docs/PROTOCOL.md §1). Knowing an IMEI
/// is never enough except under <see cref="Open"/>, which exists for development and the demo only.
/// </summary>
internal enum EnrollmentPolicy
{
    /// <summary>An Android Key Attestation chain from secure hardware (TEE or StrongBox) that attests the registered IMEI.</summary>
    Attested,

    /// <summary>The one-time enrollment token the lender issued for this device (the provisioning QR code at the point of sale).</summary>
    EnrollmentToken,

    /// <summary>Anyone who knows a registered IMEI can enroll as that phone. Development and demos only.</summary>
    Open,
}

internal static class EnrollmentPolicies
{
    /// <summary>The label shown wherever an <see cref="EnrollmentPolicy.Open"/> lender appears.</summary>
    public const string OpenWarning =
        "Open enrollment: anyone who knows a registered IMEI can enroll as that phone and take its offline-code secret. For development and demos only.";

    /// <summary>The policy's name on the command line: <c>attested</c>, <c>enrollment-token</c>, <c>open</c>.</summary>
    public static string CommandName(this EnrollmentPolicy p) => p switch
    {
        EnrollmentPolicy.Attested => "attested",
        EnrollmentPolicy.EnrollmentToken => "enrollment-token",
        _ => "open",
    };

    public static EnrollmentPolicy? FromCommandName(string name) =>
        Enum.GetValues<EnrollmentPolicy>().Cast<EnrollmentPolicy?>().FirstOrDefault(p => p!.Value.CommandName() == name);
}
