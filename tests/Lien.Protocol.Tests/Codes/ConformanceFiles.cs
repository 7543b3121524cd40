namespace Lien.Tests.Codes;

/// <summary>Finds shared/conformance/openpaygo/, which CI places beside the repository clone.</summary>
internal static class ConformanceFiles
{
    public static string Vectors => Path.Combine(Folder, "test_tokens.jsonl");
    public static string Scenario => Path.Combine(Folder, "decoder_scenario.json");

    private static string Folder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Lien.slnx")))
                    return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "conformance", "openpaygo"));
            throw new DirectoryNotFoundException($"No Lien.slnx above {AppContext.BaseDirectory}.");
        }
    }
}
