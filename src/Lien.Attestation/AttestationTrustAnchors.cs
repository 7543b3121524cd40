using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Lien.Attestation;

/// <summary>What a chain's root key is trusted for.</summary>
public enum RootTrust
{
    /// <summary>A hardware attestation root: Google's, or one the operator configured (a test authority's).</summary>
    Hardware,

    /// <summary>An AOSP software attestation root: the chain is parsed, but its key never counts as hardware-backed.</summary>
    Software,
}

/// <summary>
/// The root public keys a chain may end in. Trust is decided by the root's key (its SubjectPublicKeyInfo), never by
/// its name, so a chain may end in an older certificate of the same key and a look-alike root with another key fails.
/// </summary>
public sealed class AttestationTrustAnchors
{
    private readonly Dictionary<string, RootTrust> keys;

    private AttestationTrustAnchors(Dictionary<string, RootTrust> keys) => this.keys = keys;

    /// <summary>Google's hardware attestation roots (RSA 2016/2022 key, ECDSA Key Attestation CA1) and the AOSP software roots.</summary>
    public static AttestationTrustAnchors Google { get; } = LoadEmbedded();

    /// <summary>These anchors plus more hardware roots, given as SubjectPublicKeyInfo DER (e.g. a test authority's root key).</summary>
    public AttestationTrustAnchors WithHardwareRoots(IEnumerable<byte[]> subjectPublicKeyInfos)
    {
        var copy = new Dictionary<string, RootTrust>(keys, StringComparer.Ordinal);
        foreach (var spki in subjectPublicKeyInfos) copy[Convert.ToBase64String(spki)] = RootTrust.Hardware;
        return new AttestationTrustAnchors(copy);
    }

    /// <summary>Only the given hardware roots: for a verifier that must trust nothing of Google's (tests, a private fleet).</summary>
    public static AttestationTrustAnchors Only(IEnumerable<byte[]> subjectPublicKeyInfos) =>
        new(subjectPublicKeyInfos.ToDictionary(k => Convert.ToBase64String(k), _ => RootTrust.Hardware, StringComparer.Ordinal));

    internal bool TryFind(byte[] subjectPublicKeyInfo, [NotNullWhen(true)] out RootTrust? trust)
    {
        if (keys.TryGetValue(Convert.ToBase64String(subjectPublicKeyInfo), out var found))
        {
            trust = found;
            return true;
        }
        trust = null;
        return false;
    }

    private static AttestationTrustAnchors LoadEmbedded()
    {
        var keys = new Dictionary<string, RootTrust>(StringComparer.Ordinal);
        foreach (var root in ReadGoogleRoots()) keys[Convert.ToBase64String(root.PublicKey.ExportSubjectPublicKeyInfo())] = RootTrust.Hardware;
        var software = new X509Certificate2Collection();
        software.ImportFromPem(ReadResource("software_roots.pem"));
        foreach (var root in software) keys.TryAdd(Convert.ToBase64String(root.PublicKey.ExportSubjectPublicKeyInfo()), RootTrust.Software);
        return new AttestationTrustAnchors(keys);
    }

    private static List<X509Certificate2> ReadGoogleRoots()
    {
        var pems = JsonSerializer.Deserialize<string[]>(ReadResource("roots.json"))
            ?? throw new CryptographicException("roots.json holds no roots");
        return [.. pems.Select(pem => X509Certificate2.CreateFromPem(pem))];
    }

    private static string ReadResource(string name)
    {
        using var stream = typeof(AttestationTrustAnchors).Assembly.GetManifestResourceStream("Lien.Attestation." + name)
            ?? throw new InvalidOperationException($"The resource {name} is missing from Lien.Attestation.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
