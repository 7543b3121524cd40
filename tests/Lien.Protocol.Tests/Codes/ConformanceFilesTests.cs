using Lien.Tests.Codes;

namespace Lien.Protocol.Tests.Codes;

public class ConformanceFilesTests
{
    [Fact]
    public void RepositoryCopies_SharedFolderBesideTheClone_AreByteIdentical()
    {
        var shared = ConformanceFiles.SharedFolder;
        if (!Directory.Exists(shared))
            Assert.Skip($"No {shared} beside the clone: nothing to compare tests/conformance/openpaygo/ with.");

        var files = Directory.GetFiles(shared);
        Assert.Contains(files, f => Path.GetFileName(f) == "test_tokens.jsonl");
        Assert.Contains(files, f => Path.GetFileName(f) == "decoder_scenario.json");
        foreach (var original in files)
        {
            var copy = Path.Combine(ConformanceFiles.Folder, Path.GetFileName(original));
            Assert.True(File.Exists(copy), $"{copy} is missing: copy it from {original}.");
            Assert.True(File.ReadAllBytes(original).AsSpan().SequenceEqual(File.ReadAllBytes(copy)), $"{copy} differs from {original}: copy it again.");
        }
    }
}
