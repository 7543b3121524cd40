namespace Lien.Tests.Codes;

/// <summary>
/// Finds the OpenPAYGO conformance files: the repository's copies in tests/conformance/openpaygo/, and the shared
/// folder they are copied from, which CI places beside the clone (../shared/conformance/openpaygo/).
/// </summary>
internal static class ConformanceFiles
{
    public static string Vectors => Path.Combine(Folder, "test_tokens.jsonl");
    public static string Scenario => Path.Combine(Folder, "decoder_scenario.json");

    /// <summary>The repository's copies, which the tests read.</summary>
    public static string Folder => Path.Combine(RepositoryRoot, "tests", "conformance", "openpaygo");

    /// <summary>Where the copies come from; it exists only where the shared folder is beside the clone.</summary>
    public static string SharedFolder => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "conformance", "openpaygo"));

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Lien.slnx")))
                    return dir.FullName;
            throw new DirectoryNotFoundException($"No Lien.slnx above {AppContext.BaseDirectory}.");
        }
    }
}
