namespace Lien.Attestation;

/// <summary>Where a key lives and who attested it (the KeyDescription <c>SecurityLevel</c> enumeration).</summary>
public enum SecurityLevel
{
    Software = 0,
    TrustedEnvironment = 1,
    StrongBox = 2,
}

/// <summary>The boot state the secure hardware saw (the RootOfTrust <c>VerifiedBootState</c> enumeration).</summary>
public enum VerifiedBootState
{
    Verified = 0,
    SelfSigned = 1,
    Unverified = 2,
    Failed = 3,
}

/// <summary>How the key came to be (KeyMint <c>KeyOrigin</c>).</summary>
public enum KeyOrigin
{
    Generated = 0,
    Derived = 1,
    Imported = 2,
    Reserved = 3,
    SecurelyImported = 4,
}

/// <summary>
/// The leaf certificate's Android Key Attestation extension (OID 1.3.6.1.4.1.11129.2.1.17), as the secure hardware
/// wrote it. <see cref="KeyMintVersion"/> is the keymasterVersion of older devices.
/// </summary>
public sealed record KeyDescription(
    long AttestationVersion,
    SecurityLevel AttestationSecurityLevel,
    long KeyMintVersion,
    SecurityLevel KeyMintSecurityLevel,
    byte[] AttestationChallenge,
    byte[] UniqueId,
    AuthorizationList SoftwareEnforced,
    AuthorizationList HardwareEnforced)
{
    /// <summary>The extension's object identifier.</summary>
    public const string Oid = "1.3.6.1.4.1.11129.2.1.17";

    /// <summary>The key's creation time, from whichever list carries it (milliseconds since the epoch).</summary>
    public DateTimeOffset? CreatedAt =>
        (HardwareEnforced.CreationDateTime ?? SoftwareEnforced.CreationDateTime) is { } ms
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
}

/// <summary>The verified-boot facts the secure hardware attests (RootOfTrust).</summary>
public sealed record RootOfTrust(byte[] VerifiedBootKey, bool DeviceLocked, VerifiedBootState VerifiedBootState, byte[]? VerifiedBootHash);

/// <summary>One package of an <see cref="AttestationApplicationId"/>.</summary>
public sealed record AttestationPackageInfo(string Name, long Version);

/// <summary>The application(s) that asked for the key, and the digests of their signing certificates.</summary>
public sealed record AttestationApplicationId(IReadOnlyList<AttestationPackageInfo> Packages, IReadOnlyList<byte[]> SignatureDigests);

/// <summary>
/// A KeyDescription AuthorizationList: every tag of the Android schema, each null when absent. Boolean tags (encoded
/// as NULL) are true when present. Integers that fit in 64 bits, as every tag of the schema does.
/// </summary>
public sealed record AuthorizationList
{
    public IReadOnlyList<long>? Purposes { get; init; }                 // [1]
    public long? Algorithm { get; init; }                               // [2]
    public long? KeySize { get; init; }                                 // [3]
    public IReadOnlyList<long>? BlockModes { get; init; }               // [4]
    public IReadOnlyList<long>? Digests { get; init; }                  // [5]
    public IReadOnlyList<long>? Paddings { get; init; }                 // [6]
    public bool CallerNonce { get; init; }                              // [7]
    public long? MinMacLength { get; init; }                            // [8]
    public long? EcCurve { get; init; }                                 // [10]
    public long? MlDsaVariant { get; init; }                            // [11]
    public long? RsaPublicExponent { get; init; }                       // [200]
    public IReadOnlyList<long>? RsaOaepMgfDigests { get; init; }        // [203]
    public bool RollbackResistance { get; init; }                       // [303]
    public bool EarlyBootOnly { get; init; }                            // [305]
    public long? ActiveDateTime { get; init; }                          // [400]
    public long? OriginationExpireDateTime { get; init; }               // [401]
    public long? UsageExpireDateTime { get; init; }                     // [402]
    public long? UsageCountLimit { get; init; }                         // [405]
    public bool NoAuthRequired { get; init; }                           // [503]
    public long? UserAuthType { get; init; }                            // [504]
    public long? AuthTimeout { get; init; }                             // [505]
    public bool AllowWhileOnBody { get; init; }                         // [506]
    public bool TrustedUserPresenceRequired { get; init; }              // [507]
    public bool TrustedConfirmationRequired { get; init; }              // [508]
    public bool UnlockedDeviceRequired { get; init; }                   // [509]
    public bool AllApplications { get; init; }                          // [600]
    public byte[]? ApplicationId { get; init; }                         // [601]
    public long? CreationDateTime { get; init; }                        // [701]
    public KeyOrigin? Origin { get; init; }                             // [702]
    public bool RollbackResistant { get; init; }                        // [703]
    public RootOfTrust? RootOfTrust { get; init; }                      // [704]
    public long? OsVersion { get; init; }                               // [705]
    public long? OsPatchLevel { get; init; }                            // [706]
    public AttestationApplicationId? AttestationApplicationId { get; init; } // [709], parsed
    public byte[]? AttestationApplicationIdRaw { get; init; }           // [709], as sent
    public string? AttestationIdBrand { get; init; }                    // [710]
    public string? AttestationIdDevice { get; init; }                   // [711]
    public string? AttestationIdProduct { get; init; }                  // [712]
    public string? AttestationIdSerial { get; init; }                   // [713]
    public string? AttestationIdImei { get; init; }                     // [714]
    public string? AttestationIdMeid { get; init; }                     // [715]
    public string? AttestationIdManufacturer { get; init; }             // [716]
    public string? AttestationIdModel { get; init; }                    // [717]
    public long? VendorPatchLevel { get; init; }                        // [718]
    public long? BootPatchLevel { get; init; }                          // [719]
    public bool DeviceUniqueAttestation { get; init; }                  // [720]
    public string? AttestationIdSecondImei { get; init; }               // [723]
    public byte[]? ModuleHash { get; init; }                            // [724]
}
