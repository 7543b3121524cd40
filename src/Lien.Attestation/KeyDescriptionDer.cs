using System.Diagnostics.CodeAnalysis;
using System.Formats.Asn1;
using System.Numerics;
using System.Text;

namespace Lien.Attestation;

/// <summary>
/// Reads and writes the KeyDescription extension in DER, strictly: DER only (no BER lengths, no non-minimal integers,
/// booleans 00/FF), every AuthorizationList tag explicit, known and strictly ascending, nothing left over anywhere.
/// One DER rule is not enforced because phones break it: the elements of a SET OF are read in the order sent.
/// </summary>
public static class KeyDescriptionDer
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Parses the extension's value (the DER inside the extension's OCTET STRING); false with a reason on any defect.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> der, [NotNullWhen(true)] out KeyDescription? description, [NotNullWhen(false)] out string? error)
    {
        try
        {
            var outer = new AsnReader(der, AsnEncodingRules.DER);
            var sequence = outer.ReadSequence();
            outer.ThrowIfNotEmpty();
            var attestationVersion = ReadLong(sequence);
            var attestationLevel = ReadSecurityLevel(sequence);
            var keyMintVersion = ReadLong(sequence);
            var keyMintLevel = ReadSecurityLevel(sequence);
            var challenge = sequence.ReadOctetString();
            var uniqueId = sequence.ReadOctetString();
            var software = ReadAuthorizationList(sequence, "softwareEnforced");
            var hardware = ReadAuthorizationList(sequence, "hardwareEnforced");
            if (sequence.HasData) throw new AsnContentException("KeyDescription has more than eight fields");
            description = new KeyDescription(attestationVersion, attestationLevel, keyMintVersion, keyMintLevel, challenge, uniqueId, software, hardware);
            error = null;
            return true;
        }
        catch (Exception e) when (e is AsnContentException or DecoderFallbackException or ArgumentException)
        {
            description = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>Encodes a description the way KeyMint does (DER, tags ascending, absent fields left out).</summary>
    public static byte[] Encode(KeyDescription description)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(description.AttestationVersion);
            writer.WriteEnumeratedValue(description.AttestationSecurityLevel);
            writer.WriteInteger(description.KeyMintVersion);
            writer.WriteEnumeratedValue(description.KeyMintSecurityLevel);
            writer.WriteOctetString(description.AttestationChallenge);
            writer.WriteOctetString(description.UniqueId);
            WriteAuthorizationList(writer, description.SoftwareEnforced);
            WriteAuthorizationList(writer, description.HardwareEnforced);
        }
        return writer.Encode();
    }

    private static long ReadLong(AsnReader reader, Asn1Tag? tag = null)
    {
        if (!reader.TryReadInt64(out var value, tag)) throw new AsnContentException("an integer does not fit in 64 bits");
        return value;
    }

    private static SecurityLevel ReadSecurityLevel(AsnReader reader)
    {
        var value = ReadEnumerated(reader);
        return value is >= 0 and <= 2 ? (SecurityLevel)value : throw new AsnContentException($"unknown security level {value}");
    }

    private static long ReadEnumerated(AsnReader reader)
    {
        var bytes = reader.ReadEnumeratedBytes();
        if (bytes.Length > 8) throw new AsnContentException("an enumerated value does not fit in 64 bits");
        return (long)new BigInteger(bytes.Span, isUnsigned: false, isBigEndian: true);
    }

    private static AuthorizationList ReadAuthorizationList(AsnReader parent, string name)
    {
        var reader = parent.ReadSequence();
        var list = new AuthorizationList();
        var previous = -1;
        while (reader.HasData)
        {
            var tag = reader.PeekTag();
            if (tag.TagClass != TagClass.ContextSpecific || !tag.IsConstructed)
                throw new AsnContentException($"{name}: an entry that is not an explicit context tag ({tag})");
            if (tag.TagValue <= previous)
                throw new AsnContentException($"{name}: tag [{tag.TagValue}] after [{previous}]: tags must be strictly ascending");
            previous = tag.TagValue;
            var inner = reader.ReadSequence(tag);
            list = ReadEntry(list, tag.TagValue, inner, name);
            if (inner.HasData) throw new AsnContentException($"{name}: tag [{tag.TagValue}] holds more than one value");
        }
        return list;
    }

    private static AuthorizationList ReadEntry(AuthorizationList list, int tag, AsnReader inner, string name) => tag switch
    {
        1 => list with { Purposes = ReadIntegerSet(inner) },
        2 => list with { Algorithm = ReadLong(inner) },
        3 => list with { KeySize = ReadLong(inner) },
        4 => list with { BlockModes = ReadIntegerSet(inner) },
        5 => list with { Digests = ReadIntegerSet(inner) },
        6 => list with { Paddings = ReadIntegerSet(inner) },
        7 => list with { CallerNonce = ReadPresent(inner) },
        8 => list with { MinMacLength = ReadLong(inner) },
        10 => list with { EcCurve = ReadLong(inner) },
        11 => list with { MlDsaVariant = ReadLong(inner) },
        200 => list with { RsaPublicExponent = ReadLong(inner) },
        203 => list with { RsaOaepMgfDigests = ReadIntegerSet(inner) },
        303 => list with { RollbackResistance = ReadPresent(inner) },
        305 => list with { EarlyBootOnly = ReadPresent(inner) },
        400 => list with { ActiveDateTime = ReadLong(inner) },
        401 => list with { OriginationExpireDateTime = ReadLong(inner) },
        402 => list with { UsageExpireDateTime = ReadLong(inner) },
        405 => list with { UsageCountLimit = ReadLong(inner) },
        503 => list with { NoAuthRequired = ReadPresent(inner) },
        504 => list with { UserAuthType = ReadLong(inner) },
        505 => list with { AuthTimeout = ReadLong(inner) },
        506 => list with { AllowWhileOnBody = ReadPresent(inner) },
        507 => list with { TrustedUserPresenceRequired = ReadPresent(inner) },
        508 => list with { TrustedConfirmationRequired = ReadPresent(inner) },
        509 => list with { UnlockedDeviceRequired = ReadPresent(inner) },
        600 => list with { AllApplications = ReadPresent(inner) },
        601 => list with { ApplicationId = inner.ReadOctetString() },
        701 => list with { CreationDateTime = ReadLong(inner) },
        702 => list with { Origin = ReadOrigin(inner) },
        703 => list with { RollbackResistant = ReadPresent(inner) },
        704 => list with { RootOfTrust = ReadRootOfTrust(inner) },
        705 => list with { OsVersion = ReadLong(inner) },
        706 => list with { OsPatchLevel = ReadLong(inner) },
        709 => ReadApplicationId(list, inner.ReadOctetString()),
        710 => list with { AttestationIdBrand = ReadText(inner) },
        711 => list with { AttestationIdDevice = ReadText(inner) },
        712 => list with { AttestationIdProduct = ReadText(inner) },
        713 => list with { AttestationIdSerial = ReadText(inner) },
        714 => list with { AttestationIdImei = ReadText(inner) },
        715 => list with { AttestationIdMeid = ReadText(inner) },
        716 => list with { AttestationIdManufacturer = ReadText(inner) },
        717 => list with { AttestationIdModel = ReadText(inner) },
        718 => list with { VendorPatchLevel = ReadLong(inner) },
        719 => list with { BootPatchLevel = ReadLong(inner) },
        720 => list with { DeviceUniqueAttestation = ReadPresent(inner) },
        723 => list with { AttestationIdSecondImei = ReadText(inner) },
        724 => list with { ModuleHash = inner.ReadOctetString() },
        _ => throw new AsnContentException($"{name}: unknown tag [{tag}]"),
    };

    private static List<long> ReadIntegerSet(AsnReader inner)
    {
        // KeyMint writes these SETs in the order the key was requested with ({3, 2} for sign+verify, as
        // allow_while_on_body.pem shows), not sorted as DER wants; the order is kept, everything else is DER.
        var set = inner.ReadSetOf(skipSortOrderValidation: true);
        var values = new List<long>();
        while (set.HasData) values.Add(ReadLong(set));
        return values;
    }

    private static bool ReadPresent(AsnReader inner)
    {
        inner.ReadNull();
        return true;
    }

    private static string ReadText(AsnReader inner) => StrictUtf8.GetString(inner.ReadOctetString());

    private static KeyOrigin ReadOrigin(AsnReader inner)
    {
        var value = ReadLong(inner);
        return value is >= 0 and <= 4 ? (KeyOrigin)value : throw new AsnContentException($"unknown key origin {value}");
    }

    private static RootOfTrust ReadRootOfTrust(AsnReader inner)
    {
        var sequence = inner.ReadSequence();
        var key = sequence.ReadOctetString();
        bool locked;
        try
        {
            locked = sequence.ReadBoolean();
        }
        catch (AsnContentException e)
        {
            throw new AsnContentException("rootOfTrust.deviceLocked is not a DER BOOLEAN (one byte, 00 or FF): " + e.Message);
        }
        var state = ReadEnumerated(sequence);
        if (state is < 0 or > 3) throw new AsnContentException($"rootOfTrust: unknown verified boot state {state}");
        // verifiedBootHash arrived with attestation version 3; older devices send three fields.
        var hash = sequence.HasData ? sequence.ReadOctetString() : null;
        if (sequence.HasData) throw new AsnContentException("rootOfTrust has more than four fields");
        return new RootOfTrust(key, locked, (VerifiedBootState)state, hash);
    }

    private static AuthorizationList ReadApplicationId(AuthorizationList list, byte[] raw)
    {
        // As for the integer SETs: Keystore does not sort these by encoding, so the order is read as sent (BouncyCastle,
        // which the reference verifier uses, does not check it either); everything else about them must be DER.
        var reader = new AsnReader(raw, AsnEncodingRules.DER);
        var sequence = reader.ReadSequence();
        reader.ThrowIfNotEmpty();
        var packages = new List<AttestationPackageInfo>();
        var packageSet = sequence.ReadSetOf(skipSortOrderValidation: true);
        while (packageSet.HasData)
        {
            var package = packageSet.ReadSequence();
            var name = StrictUtf8.GetString(package.ReadOctetString());
            var version = ReadLong(package);
            package.ThrowIfNotEmpty();
            packages.Add(new AttestationPackageInfo(name, version));
        }
        var digests = new List<byte[]>();
        var digestSet = sequence.ReadSetOf(skipSortOrderValidation: true);
        while (digestSet.HasData) digests.Add(digestSet.ReadOctetString());
        sequence.ThrowIfNotEmpty();
        return list with { AttestationApplicationId = new AttestationApplicationId(packages, digests), AttestationApplicationIdRaw = raw };
    }

    private static void WriteAuthorizationList(AsnWriter writer, AuthorizationList list)
    {
        using (writer.PushSequence())
        {
            IntegerSet(writer, 1, list.Purposes);
            Integer(writer, 2, list.Algorithm);
            Integer(writer, 3, list.KeySize);
            IntegerSet(writer, 4, list.BlockModes);
            IntegerSet(writer, 5, list.Digests);
            IntegerSet(writer, 6, list.Paddings);
            Present(writer, 7, list.CallerNonce);
            Integer(writer, 8, list.MinMacLength);
            Integer(writer, 10, list.EcCurve);
            Integer(writer, 11, list.MlDsaVariant);
            Integer(writer, 200, list.RsaPublicExponent);
            IntegerSet(writer, 203, list.RsaOaepMgfDigests);
            Present(writer, 303, list.RollbackResistance);
            Present(writer, 305, list.EarlyBootOnly);
            Integer(writer, 400, list.ActiveDateTime);
            Integer(writer, 401, list.OriginationExpireDateTime);
            Integer(writer, 402, list.UsageExpireDateTime);
            Integer(writer, 405, list.UsageCountLimit);
            Present(writer, 503, list.NoAuthRequired);
            Integer(writer, 504, list.UserAuthType);
            Integer(writer, 505, list.AuthTimeout);
            Present(writer, 506, list.AllowWhileOnBody);
            Present(writer, 507, list.TrustedUserPresenceRequired);
            Present(writer, 508, list.TrustedConfirmationRequired);
            Present(writer, 509, list.UnlockedDeviceRequired);
            Present(writer, 600, list.AllApplications);
            Bytes(writer, 601, list.ApplicationId);
            Integer(writer, 701, list.CreationDateTime);
            Integer(writer, 702, (long?)list.Origin);
            Present(writer, 703, list.RollbackResistant);
            if (list.RootOfTrust is { } root)
            {
                using (writer.PushSequence(Explicit(704)))
                using (writer.PushSequence())
                {
                    writer.WriteOctetString(root.VerifiedBootKey);
                    writer.WriteBoolean(root.DeviceLocked);
                    writer.WriteEnumeratedValue(root.VerifiedBootState);
                    if (root.VerifiedBootHash is { } hash) writer.WriteOctetString(hash);
                }
            }
            Integer(writer, 705, list.OsVersion);
            Integer(writer, 706, list.OsPatchLevel);
            Bytes(writer, 709, list.AttestationApplicationIdRaw ?? (list.AttestationApplicationId is { } id ? EncodeApplicationId(id) : null));
            Text(writer, 710, list.AttestationIdBrand);
            Text(writer, 711, list.AttestationIdDevice);
            Text(writer, 712, list.AttestationIdProduct);
            Text(writer, 713, list.AttestationIdSerial);
            Text(writer, 714, list.AttestationIdImei);
            Text(writer, 715, list.AttestationIdMeid);
            Text(writer, 716, list.AttestationIdManufacturer);
            Text(writer, 717, list.AttestationIdModel);
            Integer(writer, 718, list.VendorPatchLevel);
            Integer(writer, 719, list.BootPatchLevel);
            Present(writer, 720, list.DeviceUniqueAttestation);
            Text(writer, 723, list.AttestationIdSecondImei);
            Bytes(writer, 724, list.ModuleHash);
        }
    }

    /// <summary>Encodes an application id as Keystore does (the value of tag [709]).</summary>
    public static byte[] EncodeApplicationId(AttestationApplicationId id)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            WriteUnsortedSet(writer, set =>
            {
                foreach (var package in id.Packages)
                {
                    using (set.PushSequence())
                    {
                        set.WriteOctetString(Encoding.UTF8.GetBytes(package.Name));
                        set.WriteInteger(package.Version);
                    }
                }
            });
            WriteUnsortedSet(writer, set =>
            {
                foreach (var digest in id.SignatureDigests) set.WriteOctetString(digest);
            });
        }
        return writer.Encode();
    }

    // A SET OF with its elements in the order given; AsnWriter.PushSetOf would sort them by encoding.
    private static void WriteUnsortedSet(AsnWriter writer, Action<AsnWriter> elements)
    {
        var content = new AsnWriter(AsnEncodingRules.DER);
        elements(content);
        var body = content.Encode();
        var header = new List<byte> { 0x31 };
        if (body.Length < 0x80)
        {
            header.Add((byte)body.Length);
        }
        else
        {
            var length = BitConverter.GetBytes(body.Length).Reverse().SkipWhile(b => b == 0).ToArray();
            header.Add((byte)(0x80 | length.Length));
            header.AddRange(length);
        }
        writer.WriteEncodedValue([.. header, .. body]);
    }

    private static Asn1Tag Explicit(int tag) => new(TagClass.ContextSpecific, tag, isConstructed: true);

    private static void Integer(AsnWriter writer, int tag, long? value)
    {
        if (value is not { } v) return;
        using (writer.PushSequence(Explicit(tag))) writer.WriteInteger(v);
    }

    private static void IntegerSet(AsnWriter writer, int tag, IReadOnlyList<long>? values)
    {
        if (values is null) return;
        // Written in the given order, as KeyMint writes them (PushSetOf would sort them).
        using (writer.PushSequence(Explicit(tag)))
        {
            WriteUnsortedSet(writer, set =>
            {
                foreach (var v in values) set.WriteInteger(v);
            });
        }
    }

    private static void Present(AsnWriter writer, int tag, bool present)
    {
        if (!present) return;
        using (writer.PushSequence(Explicit(tag))) writer.WriteNull();
    }

    private static void Bytes(AsnWriter writer, int tag, byte[]? value)
    {
        if (value is null) return;
        using (writer.PushSequence(Explicit(tag))) writer.WriteOctetString(value);
    }

    private static void Text(AsnWriter writer, int tag, string? value)
    {
        if (value is null) return;
        using (writer.PushSequence(Explicit(tag))) writer.WriteOctetString(Encoding.UTF8.GetBytes(value));
    }
}
