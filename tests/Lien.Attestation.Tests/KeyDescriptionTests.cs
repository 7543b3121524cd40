using System.Security.Cryptography.X509Certificates;
using System.Text;
using CsCheck;

namespace Lien.Attestation.Tests;

public class KeyDescriptionTests
{
    private static readonly AttestationVerifier Google = new(AttestationTrustAnchors.Google);

    private static byte[] Extension(string chainName)
    {
        using var leaf = X509CertificateLoader.LoadCertificate(AttestationFiles.Chain(chainName)[0]);
        return leaf.Extensions[KeyDescription.Oid]!.RawData;
    }

    private static KeyDescription Parse(byte[] der)
    {
        Assert.True(KeyDescriptionDer.TryParse(der, out var description, out var error), error);
        return description;
    }

    [Fact]
    public void TryParse_CompleteAuthorizationList_ReadsEveryTagOfTheSchema()
    {
        // complete_authlist.json: a softwareEnforced list with every tag set, over the hardwareEnforced list of the Pixel 8a IMEI chain.
        var software = new AuthorizationList
        {
            Purposes = [1, 2], Algorithm = 1, KeySize = 2048, BlockModes = [1, 2], Digests = [1, 2], Paddings = [1, 2],
            EcCurve = 10, MlDsaVariant = 1, RsaPublicExponent = 65537, RsaOaepMgfDigests = [1, 2],
            ActiveDateTime = 1000, OriginationExpireDateTime = 2000, UsageExpireDateTime = 3000, UsageCountLimit = 10,
            NoAuthRequired = true, UserAuthType = 1, AuthTimeout = 60, AllowWhileOnBody = true, TrustedUserPresenceRequired = true,
            TrustedConfirmationRequired = true, UnlockedDeviceRequired = true, CreationDateTime = 123456789, Origin = KeyOrigin.Generated,
            RollbackResistant = true,
            RootOfTrust = new RootOfTrust(new byte[32], true, VerifiedBootState.Verified, new byte[32]),
            OsVersion = 110000, OsPatchLevel = 202101,
            AttestationApplicationId = new AttestationApplicationId([new AttestationPackageInfo("package1", 1)], [Encoding.UTF8.GetBytes("signature1")]),
            AttestationIdBrand = "brand", AttestationIdDevice = "device", AttestationIdProduct = "product", AttestationIdSerial = "serial",
            AttestationIdImei = "imei", AttestationIdMeid = "meid", AttestationIdManufacturer = "manufacturer", AttestationIdModel = "model",
            VendorPatchLevel = 20210101, BootPatchLevel = 20210101, AttestationIdSecondImei = "secondImei", ModuleHash = Encoding.UTF8.GetBytes("moduleHash"),
        };
        var hardware = Parse(Extension("akita/sdk34/TEE_RSA_BASE+IMEI")).HardwareEnforced;
        var encoded = KeyDescriptionDer.Encode(new KeyDescription(400, SecurityLevel.TrustedEnvironment, 400, SecurityLevel.TrustedEnvironment,
            Encoding.UTF8.GetBytes("challenge"), Encoding.UTF8.GetBytes("uniqueId"), software, hardware));

        var parsed = Parse(encoded);
        var expected = AttestationConformance.ParseRecord(File.ReadAllText(Path.Combine(AttestationFiles.TestData, "complete_authlist.json")));
        Assert.Null(AttestationConformance.FirstDifference(expected, KeyDescriptionJson.ToJson(parsed), "$"));
        Assert.Equal(encoded, KeyDescriptionDer.Encode(parsed));
    }

    [Theory]
    [MemberData(nameof(AttestationFiles.RecordedChains), MemberType = typeof(AttestationFiles))]
    public void Encode_EveryRealExtension_GivesBackTheDeviceBytes(string name)
    {
        var der = Extension(name);
        Assert.Equal(der, KeyDescriptionDer.Encode(Parse(der)));
    }

    [Fact]
    public void TryParse_AllowWhileOnBodySeenInTheWild_IsRead()
    {
        var der = Extension("allow_while_on_body");
        var description = Parse(der);
        Assert.True(description.SoftwareEnforced.AllowWhileOnBody || description.HardwareEnforced.AllowWhileOnBody);
        Assert.Equal([3, 2], description.HardwareEnforced.Purposes); // unsorted, as the phone wrote it
        Assert.Equal(der, KeyDescriptionDer.Encode(description));
    }

    [Fact]
    public void TryParse_DefectsAStrictParserMustRefuse_AreRefusedWithAReason()
    {
        var good = KeyDescriptionDer.Encode(Parse(Extension("akita/sdk34/TEE_EC_NONE")));
        Assert.False(KeyDescriptionDer.TryParse((byte[])[.. good, 0x00], out _, out var trailing));
        Assert.NotEmpty(trailing);
        Assert.False(KeyDescriptionDer.TryParse(good[..^1], out _, out _));
        Assert.False(KeyDescriptionDer.TryParse(Array.Empty<byte>(), out _, out _));

        // A length in more bytes than DER allows.
        Assert.Equal(0x82, good[1]); // the real extension is long enough for a two-byte length…
        var longer = new byte[good.Length + 1];
        longer[0] = 0x30;
        longer[1] = 0x83;
        longer[2] = 0x00;
        good.AsSpan(2).CopyTo(longer.AsSpan(3));
        Assert.False(KeyDescriptionDer.TryParse(longer, out _, out _)); // …so a three-byte one is not DER.

        // An unknown tag, and a tag repeated.
        var repeated = new KeyDescription(4, SecurityLevel.TrustedEnvironment, 4, SecurityLevel.TrustedEnvironment, [1], [], new AuthorizationList(), new AuthorizationList { KeySize = 256 });
        var bytes = KeyDescriptionDer.Encode(repeated);
        var keySize = new byte[] { 0xA3, 0x04, 0x02, 0x02, 0x01, 0x00 };
        Assert.True(bytes.AsSpan().IndexOf(keySize) > 0);
        Assert.False(KeyDescriptionDer.TryParse(Splice(bytes, keySize, [.. keySize, .. keySize]), out _, out var twice));
        Assert.Contains("ascending", twice, StringComparison.Ordinal);
        var unknown = new byte[] { 0xBF, 0x82, 0x7F, 0x02, 0x05, 0x00 }; // [383] NULL: no such tag in the schema
        Assert.False(KeyDescriptionDer.TryParse(Splice(bytes, keySize, [.. keySize, .. unknown]), out _, out var unknownError));
        Assert.Contains("unknown tag", unknownError, StringComparison.Ordinal);
    }

    // Replaces the first occurrence of a run of bytes, fixing up the lengths of the two enclosing SEQUENCEs (short form only).
    private static byte[] Splice(byte[] der, byte[] find, byte[] replace)
    {
        var at = der.AsSpan().IndexOf(find);
        var grown = (byte[])[.. der[..at], .. replace, .. der[(at + find.Length)..]];
        var delta = replace.Length - find.Length;
        grown[1] = (byte)(grown[1] + delta);               // KeyDescription: 30 LL (short form in this small case)
        var hardware = Array.LastIndexOf(grown, (byte)0x30, at); // hardwareEnforced: 30 LL just before the entry
        grown[hardware + 1] = (byte)(grown[hardware + 1] + delta);
        return grown;
    }

    [Fact]
    public void Verify_RandomMutationsOfARealChain_NeverThrow()
    {
        var chain = AttestationFiles.Chain("caiman/sdk36/TEE_EC_RKP");
        var at = AttestationFiles.CreatedAt("caiman/sdk36/TEE_EC_RKP");
        var mutation = Gen.Select(Gen.Int[0, chain.Count - 1], Gen.Int[0, 4000], Gen.Byte, Gen.Int[0, 3]);
        mutation.Array[1, 6].Sample(edits =>
        {
            var mutated = chain.Select(c => c.ToArray()).ToList();
            foreach (var (certificate, position, value, kind) in edits)
            {
                var bytes = mutated[certificate];
                if (bytes.Length == 0) continue;
                var i = position % bytes.Length;
                mutated[certificate] = kind switch
                {
                    0 => [.. bytes[..i], value, .. bytes[(i + 1)..]],   // overwrite
                    1 => [.. bytes[..i], value, .. bytes[i..]],         // insert
                    2 => [.. bytes[..i], .. bytes[(i + 1)..]],          // delete
                    _ => bytes[..i],                                    // truncate
                };
            }
            var verdict = Google.Verify(mutated, AttestationPolicy.ChainOnly, at, AttestationStatusList.Empty);
            return verdict.Verified == mutated.Zip(chain).All(p => p.First.AsSpan().SequenceEqual(p.Second));
        }, iter: 3000);
    }

    [Fact]
    public void TryParse_RandomMutationsOfARealExtension_NeverThrow()
    {
        var der = Extension("akita/sdk34/TEE_RSA_BASE+IMEI");
        Gen.Select(Gen.Int[0, der.Length - 1], Gen.Byte).Array[1, 8].Sample(edits =>
        {
            var mutated = der.ToArray();
            foreach (var (position, value) in edits) mutated[position] = value;
            KeyDescriptionDer.TryParse(mutated, out _, out _);
        }, iter: 20000);
        Gen.Byte.Array[0, 300].Sample(bytes => { KeyDescriptionDer.TryParse(bytes, out _, out _); }, iter: 20000);
    }
}
