using System.Diagnostics.CodeAnalysis;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Lien.Attestation;

/// <summary>
/// One certificate of a chain, read field by field with <see cref="AsnReader"/> (no X509Certificate2: the verifier
/// needs the exact to-be-signed bytes, the raw names and the SPKI, and must read keys .NET cannot load).
/// </summary>
internal sealed class AttestationCertificate
{
    public required byte[] Raw { get; init; }
    public required ReadOnlyMemory<byte> ToBeSigned { get; init; }
    public required string SignatureAlgorithm { get; init; }
    public required byte[] Signature { get; init; }
    public required byte[] SerialNumber { get; init; }
    public required ReadOnlyMemory<byte> Issuer { get; init; }
    public required ReadOnlyMemory<byte> Subject { get; init; }
    public required DateTimeOffset NotBefore { get; init; }
    public required DateTimeOffset NotAfter { get; init; }
    public required byte[] SubjectPublicKeyInfo { get; init; }
    public required string PublicKeyAlgorithm { get; init; }
    public required IReadOnlyDictionary<string, byte[]> Extensions { get; init; }

    /// <summary>The serial number as the attestation status list writes it: lower-case hexadecimal, no leading zeros.</summary>
    public string SerialHex => StatusListSerial.Normalize(Convert.ToHexString(SerialNumber));

    public bool IsSelfIssued => Issuer.Span.SequenceEqual(Subject.Span);

    public static bool TryRead(byte[] der, [NotNullWhen(true)] out AttestationCertificate? certificate, [NotNullWhen(false)] out string? error)
    {
        try
        {
            var outer = new AsnReader(der, AsnEncodingRules.DER);
            var certificateSequence = outer.ReadSequence();
            outer.ThrowIfNotEmpty();
            var toBeSigned = certificateSequence.ReadEncodedValue();
            var outerAlgorithm = certificateSequence.ReadEncodedValue();
            var signature = certificateSequence.ReadBitString(out var unusedBits);
            if (unusedBits != 0) throw new AsnContentException("the signature is not a whole number of bytes");
            certificateSequence.ThrowIfNotEmpty();

            var tbs = new AsnReader(toBeSigned, AsnEncodingRules.DER).ReadSequence();
            var versionTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
            if (tbs.PeekTag().HasSameClassAndValue(versionTag))
            {
                var version = tbs.ReadSequence(versionTag);
                version.ReadInteger();
                version.ThrowIfNotEmpty();
            }
            var serial = tbs.ReadIntegerBytes().ToArray();
            var innerAlgorithm = tbs.ReadEncodedValue();
            // RFC 5280 4.1.1.2: the algorithm outside the signed part must be the one inside it.
            if (!innerAlgorithm.Span.SequenceEqual(outerAlgorithm.Span))
                throw new AsnContentException("the signature algorithm outside the signed part differs from the one inside");
            var issuer = tbs.ReadEncodedValue();
            var validity = tbs.ReadSequence();
            var notBefore = ReadTime(validity);
            var notAfter = ReadTime(validity);
            validity.ThrowIfNotEmpty();
            var subject = tbs.ReadEncodedValue();
            var spki = tbs.ReadEncodedValue();
            var spkiReader = new AsnReader(spki, AsnEncodingRules.DER).ReadSequence();
            var keyAlgorithm = spkiReader.ReadSequence().ReadObjectIdentifier();

            var extensions = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            while (tbs.HasData)
            {
                var tag = tbs.PeekTag();
                if (tag.HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true)))
                {
                    var list = tbs.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true)).ReadSequence();
                    while (list.HasData)
                    {
                        var extension = list.ReadSequence();
                        var oid = extension.ReadObjectIdentifier();
                        if (extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean)) extension.ReadBoolean();
                        var value = extension.ReadOctetString();
                        extension.ThrowIfNotEmpty();
                        if (!extensions.TryAdd(oid, value)) throw new AsnContentException($"extension {oid} appears twice");
                    }
                }
                else
                {
                    tbs.ReadEncodedValue(); // issuerUniqueID / subjectUniqueID
                }
            }

            var algorithm = new AsnReader(outerAlgorithm, AsnEncodingRules.DER).ReadSequence().ReadObjectIdentifier();
            certificate = new AttestationCertificate
            {
                Raw = der,
                ToBeSigned = toBeSigned,
                SignatureAlgorithm = algorithm,
                Signature = signature,
                SerialNumber = serial,
                Issuer = issuer,
                Subject = subject,
                NotBefore = notBefore,
                NotAfter = notAfter,
                SubjectPublicKeyInfo = spki.ToArray(),
                PublicKeyAlgorithm = keyAlgorithm,
                Extensions = extensions,
            };
            error = null;
            return true;
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException or ArgumentException)
        {
            certificate = null;
            error = e.Message;
            return false;
        }
    }

    private static DateTimeOffset ReadTime(AsnReader reader) =>
        reader.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) ? reader.ReadUtcTime() : reader.ReadGeneralizedTime();

    /// <summary>The value of one attribute of the subject (e.g. 2.5.4.12 title), or null.</summary>
    public string? SubjectAttribute(string oid)
    {
        foreach (var rdn in new X500DistinguishedName(Subject.Span).EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == oid) return rdn.GetSingleElementValue();
        }
        return null;
    }
}

/// <summary>The one spelling of a certificate serial number in the attestation status list.</summary>
internal static class StatusListSerial
{
    public static string Normalize(string hex)
    {
        var trimmed = hex.Trim().ToLowerInvariant().TrimStart('0');
        return trimmed.Length == 0 ? "0" : trimmed;
    }
}
