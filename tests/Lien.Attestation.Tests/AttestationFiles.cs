using Lien.Tests.Codes;

namespace Lien.Attestation.Tests;

/// <summary>
/// Finds the Android Key Attestation conformance data: the repository's copies in tests/conformance/android-key-attestation/,
/// and the shared folder they are copied from, which CI places beside the clone.
/// </summary>
internal static class AttestationFiles
{
    /// <summary>The repository's copies, which the tests read.</summary>
    public static string Folder => Path.Combine(RepositoryRoot, "tests", "conformance", "android-key-attestation");

    public static string TestData => Path.Combine(Folder, "testdata");

    /// <summary>Where the copies come from; it exists only where the shared folder is beside the clone.</summary>
    public static string SharedFolder => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "conformance", "android-key-attestation"));

    /// <summary>Every chain that has an expected record, relative to testdata/ without the extension (e.g. akita/sdk34/TEE_EC_NONE).</summary>
    public static TheoryData<string> RecordedChains()
    {
        var data = new TheoryData<string>();
        foreach (var json in Directory.EnumerateFiles(TestData, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (File.Exists(Path.ChangeExtension(json, ".pem")))
                data.Add(Path.ChangeExtension(Path.GetRelativePath(TestData, json), null).Replace('\\', '/'));
        }
        return data;
    }

    public static IReadOnlyList<byte[]> Chain(string name)
    {
        var path = Path.Combine(TestData, name.EndsWith(".pem", StringComparison.Ordinal) ? name : name + ".pem");
        Assert.True(AttestationPem.TryRead(File.ReadAllText(path), out var chain, out var error), error);
        return chain;
    }

    /// <summary>The chain's key creation time, from its record: the instant the reference verifier validates it at.</summary>
    public static DateTimeOffset CreatedAt(string name)
    {
        var record = AttestationConformance.ParseRecord(Record(name))!;
        var ms = (string?)record["softwareEnforced"]?["creationDateTime"] ?? (string)record["hardwareEnforced"]!["creationDateTime"]!;
        return DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(ms, System.Globalization.CultureInfo.InvariantCulture));
    }

    public static string Record(string name) => File.ReadAllText(Path.Combine(TestData, name + ".json"));

    private static string RepositoryRoot => ConformanceFiles.RepositoryRoot;
}
