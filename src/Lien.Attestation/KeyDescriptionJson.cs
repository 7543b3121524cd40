using System.Globalization;
using System.Text.Json.Nodes;

namespace Lien.Attestation;

/// <summary>
/// The KeyDescription as JSON in the shape of the reference verifier's records (android/keyattestation test data):
/// integers as decimal strings, bytes as standard base64, enumerations by their schema names, absent fields left out.
/// </summary>
public static class KeyDescriptionJson
{
    public static JsonObject ToJson(KeyDescription description) => new()
    {
        ["attestationVersion"] = Number(description.AttestationVersion),
        ["attestationSecurityLevel"] = Name(description.AttestationSecurityLevel),
        ["keyMintVersion"] = Number(description.KeyMintVersion),
        ["keyMintSecurityLevel"] = Name(description.KeyMintSecurityLevel),
        ["attestationChallenge"] = Convert.ToBase64String(description.AttestationChallenge),
        ["uniqueId"] = Convert.ToBase64String(description.UniqueId),
        ["softwareEnforced"] = ToJson(description.SoftwareEnforced),
        ["hardwareEnforced"] = ToJson(description.HardwareEnforced),
    };

    public static JsonObject ToJson(AuthorizationList list)
    {
        var json = new JsonObject();
        Numbers(json, "purposes", list.Purposes);
        Number(json, "algorithms", list.Algorithm);
        Number(json, "keySize", list.KeySize);
        Numbers(json, "blockModes", list.BlockModes);
        Numbers(json, "digests", list.Digests);
        Numbers(json, "paddings", list.Paddings);
        Flag(json, "callerNonce", list.CallerNonce);
        Number(json, "minMacLength", list.MinMacLength);
        Number(json, "ecCurve", list.EcCurve);
        Number(json, "mlDsaVariant", list.MlDsaVariant);
        Number(json, "rsaPublicExponent", list.RsaPublicExponent);
        Numbers(json, "rsaOaepMgfDigests", list.RsaOaepMgfDigests);
        Flag(json, "rollbackResistance", list.RollbackResistance);
        Flag(json, "earlyBootOnly", list.EarlyBootOnly);
        Number(json, "activeDateTime", list.ActiveDateTime);
        Number(json, "originationExpireDateTime", list.OriginationExpireDateTime);
        Number(json, "usageExpireDateTime", list.UsageExpireDateTime);
        Number(json, "usageCountLimit", list.UsageCountLimit);
        Flag(json, "noAuthRequired", list.NoAuthRequired);
        Number(json, "userAuthType", list.UserAuthType);
        Number(json, "authTimeout", list.AuthTimeout);
        Flag(json, "allowWhileOnBody", list.AllowWhileOnBody);
        Flag(json, "trustedUserPresenceRequired", list.TrustedUserPresenceRequired);
        Flag(json, "trustedConfirmationRequired", list.TrustedConfirmationRequired);
        Flag(json, "unlockedDeviceRequired", list.UnlockedDeviceRequired);
        Flag(json, "allApplications", list.AllApplications);
        Bytes(json, "applicationId", list.ApplicationId);
        Number(json, "creationDateTime", list.CreationDateTime);
        if (list.Origin is { } origin) json["origin"] = Name(origin);
        Flag(json, "rollbackResistant", list.RollbackResistant);
        if (list.RootOfTrust is { } root)
        {
            var rootJson = new JsonObject
            {
                ["verifiedBootKey"] = Convert.ToBase64String(root.VerifiedBootKey),
                ["deviceLocked"] = root.DeviceLocked,
                ["verifiedBootState"] = Name(root.VerifiedBootState),
            };
            Bytes(rootJson, "verifiedBootHash", root.VerifiedBootHash);
            json["rootOfTrust"] = rootJson;
        }
        Number(json, "osVersion", list.OsVersion);
        Number(json, "osPatchLevel", list.OsPatchLevel);
        if (list.AttestationApplicationId is { } id)
        {
            json["attestationApplicationId"] = new JsonObject
            {
                ["packages"] = new JsonArray([.. id.Packages.Select(p => (JsonNode)new JsonObject { ["name"] = p.Name, ["version"] = Number(p.Version) })]),
                ["signatures"] = new JsonArray([.. id.SignatureDigests.Select(d => (JsonNode)Convert.ToBase64String(d))]),
            };
        }
        Text(json, "attestationIdBrand", list.AttestationIdBrand);
        Text(json, "attestationIdDevice", list.AttestationIdDevice);
        Text(json, "attestationIdProduct", list.AttestationIdProduct);
        Text(json, "attestationIdSerial", list.AttestationIdSerial);
        Text(json, "attestationIdImei", list.AttestationIdImei);
        Text(json, "attestationIdMeid", list.AttestationIdMeid);
        Text(json, "attestationIdManufacturer", list.AttestationIdManufacturer);
        Text(json, "attestationIdModel", list.AttestationIdModel);
        Number(json, "vendorPatchLevel", list.VendorPatchLevel);
        Number(json, "bootPatchLevel", list.BootPatchLevel);
        Flag(json, "deviceUniqueAttestation", list.DeviceUniqueAttestation);
        Text(json, "attestationIdSecondImei", list.AttestationIdSecondImei);
        Bytes(json, "moduleHash", list.ModuleHash);
        return json;
    }

    /// <summary>The schema name of a security level: SOFTWARE, TRUSTED_ENVIRONMENT, STRONG_BOX.</summary>
    public static string Name(SecurityLevel level) => level switch
    {
        SecurityLevel.Software => "SOFTWARE",
        SecurityLevel.TrustedEnvironment => "TRUSTED_ENVIRONMENT",
        SecurityLevel.StrongBox => "STRONG_BOX",
        _ => level.ToString(),
    };

    /// <summary>The schema name of a boot state: VERIFIED, SELF_SIGNED, UNVERIFIED, FAILED.</summary>
    public static string Name(VerifiedBootState state) => state switch
    {
        VerifiedBootState.Verified => "VERIFIED",
        VerifiedBootState.SelfSigned => "SELF_SIGNED",
        VerifiedBootState.Unverified => "UNVERIFIED",
        VerifiedBootState.Failed => "FAILED",
        _ => state.ToString(),
    };

    private static string Name(KeyOrigin origin) => origin switch
    {
        KeyOrigin.Generated => "GENERATED",
        KeyOrigin.Derived => "DERIVED",
        KeyOrigin.Imported => "IMPORTED",
        KeyOrigin.Reserved => "RESERVED",
        KeyOrigin.SecurelyImported => "SECURELY_IMPORTED",
        _ => origin.ToString(),
    };

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Number(JsonObject json, string name, long? value)
    {
        if (value is { } v) json[name] = Number(v);
    }

    private static void Numbers(JsonObject json, string name, IReadOnlyList<long>? values)
    {
        if (values is not null) json[name] = new JsonArray([.. values.Select(v => (JsonNode)Number(v))]);
    }

    private static void Flag(JsonObject json, string name, bool present)
    {
        if (present) json[name] = true;
    }

    private static void Bytes(JsonObject json, string name, byte[]? value)
    {
        if (value is not null) json[name] = Convert.ToBase64String(value);
    }

    private static void Text(JsonObject json, string name, string? value)
    {
        if (value is not null) json[name] = value;
    }
}
