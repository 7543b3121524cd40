using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lien.Attestation;

/// <summary>Reads PEM certificate chains (as phones' chains are stored in the conformance data).</summary>
public static class AttestationPem
{
    /// <summary>Every CERTIFICATE block of <paramref name="text"/>, in order; false with a reason when there is none or one is damaged.</summary>
    public static bool TryRead(string text, [NotNullWhen(true)] out IReadOnlyList<byte[]>? chain, [NotNullWhen(false)] out string? error)
    {
        var certificates = new List<byte[]>();
        var rest = text.AsMemory();
        while (PemEncoding.TryFind(rest.Span, out var fields))
        {
            var label = rest.Span[fields.Label];
            if (!label.SequenceEqual("CERTIFICATE"))
            {
                chain = null;
                error = $"a PEM block labelled {label} where a CERTIFICATE was expected";
                return false;
            }
            var der = new byte[fields.DecodedDataLength];
            if (!Convert.TryFromBase64Chars(rest.Span[fields.Base64Data], der, out var written))
            {
                chain = null;
                error = $"certificate {certificates.Count} is not valid base64";
                return false;
            }
            certificates.Add(der[..written]);
            rest = rest[fields.Location.End..];
        }
        if (certificates.Count == 0)
        {
            chain = null;
            error = "no PEM CERTIFICATE block found";
            return false;
        }
        chain = certificates;
        error = null;
        return true;
    }

    /// <summary>
    /// The root keys (SubjectPublicKeyInfo DER) a PEM text names for a verifier to trust: each CERTIFICATE's key, and each
    /// PUBLIC KEY as it is (what <c>lien attestation authority</c> writes); false with a reason when there is none, or a
    /// block is damaged or of another kind.
    /// </summary>
    public static bool TryReadRootKeys(string text, [NotNullWhen(true)] out IReadOnlyList<byte[]>? keys, [NotNullWhen(false)] out string? error)
    {
        var found = new List<byte[]>();
        var rest = text.AsMemory();
        (keys, error) = (null, null);
        while (PemEncoding.TryFind(rest.Span, out var fields))
        {
            var label = rest.Span[fields.Label];
            var der = new byte[fields.DecodedDataLength];
            if (!Convert.TryFromBase64Chars(rest.Span[fields.Base64Data], der, out var written))
            {
                error = $"block {found.Count} is not valid base64";
                return false;
            }
            der = der[..written];
            if (label.SequenceEqual("PUBLIC KEY")) found.Add(der);
            else if (!label.SequenceEqual("CERTIFICATE"))
            {
                error = $"a PEM block labelled {label} where a CERTIFICATE or PUBLIC KEY was expected";
                return false;
            }
            else
            {
                try
                {
                    using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(der);
                    found.Add(certificate.PublicKey.ExportSubjectPublicKeyInfo());
                }
                catch (CryptographicException e)
                {
                    error = $"certificate {found.Count} cannot be read: {e.Message}";
                    return false;
                }
            }
            rest = rest[fields.Location.End..];
        }
        if (found.Count == 0)
        {
            error = "it holds no CERTIFICATE or PUBLIC KEY block";
            return false;
        }
        keys = found;
        return true;
    }

    /// <summary>A chain as PEM, leaf first.</summary>
    public static string Write(IEnumerable<byte[]> chain) =>
        string.Concat(chain.Select(der => new string(PemEncoding.Write("CERTIFICATE", der)) + "\n"));
}

/// <summary>One conformance case: a chain file, and whether this verifier agreed with the record it must parse to.</summary>
public sealed record AttestationConformanceCase(string Path, bool Passed, string Detail);

/// <summary>
/// Runs the reference verifier's test data (android/keyattestation): every <c>.pem</c> with a <c>.json</c> beside it must
/// verify at its key's creation time and parse to exactly that record; every chain in an <c>invalid</c> folder must be
/// refused. A chain with neither is reported as skipped.
/// </summary>
public static class AttestationConformance
{
    public static IReadOnlyList<AttestationConformanceCase> Run(string directory, AttestationVerifier verifier, DateTimeOffset now)
    {
        var cases = new List<AttestationConformanceCase>();
        foreach (var pem in Directory.EnumerateFiles(directory, "*.pem", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(directory, pem);
            var json = Path.ChangeExtension(pem, ".json");
            var invalid = relative.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar).Contains("invalid");
            if (!AttestationPem.TryRead(File.ReadAllText(pem), out var chain, out var pemError))
            {
                cases.Add(new AttestationConformanceCase(relative, invalid, "not a PEM chain: " + pemError));
                continue;
            }
            if (invalid)
            {
                var verdict = verifier.Verify(chain, AttestationPolicy.ChainOnly, now, null);
                cases.Add(new AttestationConformanceCase(relative, !verdict.Verified,
                    verdict.Verified ? "an invalid chain was accepted" : $"refused: {verdict.Failure}: {verdict.Message}"));
            }
            else if (File.Exists(json))
            {
                var (passed, detail) = Check(chain, ParseRecord(File.ReadAllText(json)), verifier);
                cases.Add(new AttestationConformanceCase(relative, passed, detail));
            }
            else
            {
                cases.Add(new AttestationConformanceCase(relative, Passed: false, "skipped: no .json record beside it"));
            }
        }
        return cases;
    }

    /// <summary>Reads an expected record (JSON; some carry a // comment line saying where the phone came from).</summary>
    public static JsonNode? ParseRecord(string json) =>
        JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });

    /// <summary>Whether a case was skipped rather than run.</summary>
    public static bool IsSkipped(AttestationConformanceCase result) => result.Detail.StartsWith("skipped:", StringComparison.Ordinal);

    /// <summary>Verifies <paramref name="chain"/> at the creation time in <paramref name="expected"/> and compares every field of the record.</summary>
    public static (bool Passed, string Detail) Check(IReadOnlyList<byte[]> chain, JsonNode? expected, AttestationVerifier verifier)
    {
        if (expected is not JsonObject record) return (false, "the expected record is not a JSON object");
        if (CreationTime(record) is not { } createdAt) return (false, "the expected record has no creationDateTime");
        var verdict = verifier.Verify(chain, AttestationPolicy.ChainOnly, createdAt, null);
        if (!verdict.Verified) return (false, $"refused at {createdAt:O}: {verdict.Failure}: {verdict.Message}");
        var actual = KeyDescriptionJson.ToJson(verdict.Record!);
        // Some records carry the reference parser's "areTagsOrdered" flag. This parser refuses unordered lists, so a
        // parsed list is ordered: the flag must be true, and is then a fact already checked rather than a field.
        var wanted = (JsonObject)record.DeepClone();
        foreach (var list in new[] { "softwareEnforced", "hardwareEnforced" })
        {
            if (wanted[list] is not JsonObject authorizations || !authorizations.ContainsKey("areTagsOrdered")) continue;
            if (authorizations["areTagsOrdered"] is not JsonValue ordered || !ordered.TryGetValue<bool>(out var isOrdered) || !isOrdered)
                return (false, $"the record expects {list} with tags out of order, which this parser refuses");
            authorizations.Remove("areTagsOrdered");
        }
        var difference = FirstDifference(wanted, actual, "$");
        return difference is null
            ? (true, $"verified at {createdAt:O} ({verdict.Message}); record matches")
            : (false, "record differs: " + difference);
    }

    private static DateTimeOffset? CreationTime(JsonObject record)
    {
        foreach (var list in new[] { "hardwareEnforced", "softwareEnforced" })
        {
            if (record[list]?["creationDateTime"] is JsonValue value
                && long.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
                return DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }
        return null;
    }

    /// <summary>The first path where two JSON trees differ (object member order aside), or null when they are equal.</summary>
    public static string? FirstDifference(JsonNode? expected, JsonNode? actual, string path)
    {
        switch (expected, actual)
        {
            case (JsonObject e, JsonObject a):
                foreach (var (name, value) in e)
                {
                    if (!a.ContainsKey(name)) return $"{path}.{name} is missing";
                    if (FirstDifference(value, a[name], $"{path}.{name}") is { } d) return d;
                }
                foreach (var (name, _) in a)
                {
                    if (!e.ContainsKey(name)) return $"{path}.{name} is not expected";
                }
                return null;
            case (JsonArray e, JsonArray a):
                if (e.Count != a.Count) return $"{path} has {a.Count} items, expected {e.Count}";
                for (var i = 0; i < e.Count; i++)
                {
                    if (FirstDifference(e[i], a[i], $"{path}[{i}]") is { } d) return d;
                }
                return null;
            default:
                return JsonNode.DeepEquals(expected, actual) ? null : $"{path} is {Show(actual)}, expected {Show(expected)}";
        }
    }

    private static string Show(JsonNode? node) => node?.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) ?? "null";
}
