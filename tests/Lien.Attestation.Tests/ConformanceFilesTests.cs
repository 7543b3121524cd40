namespace Lien.Attestation.Tests;

public class ConformanceFilesTests
{
    [Fact]
    public void RepositoryCopies_SharedFolderBesideTheClone_AreByteIdentical()
    {
        var shared = AttestationFiles.SharedFolder;
        if (!Directory.Exists(shared))
            Assert.Skip($"No {shared} beside the clone: nothing to compare tests/conformance/android-key-attestation/ with.");

        var files = Directory.GetFiles(shared, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => Path.GetFileName(f) == "roots.json");
        Assert.True(files.Count(f => f.EndsWith(".pem", StringComparison.Ordinal)) >= 23, "the shared folder lost chains");
        foreach (var original in files)
        {
            var copy = Path.Combine(AttestationFiles.Folder, Path.GetRelativePath(shared, original));
            Assert.True(File.Exists(copy), $"{copy} is missing: copy it from {original}.");
            Assert.True(File.ReadAllBytes(original).AsSpan().SequenceEqual(File.ReadAllBytes(copy)), $"{copy} differs from {original}: copy it again.");
        }
    }

    [Theory]
    [InlineData("roots.json")]
    [InlineData("software_roots.pem")]
    public void EmbeddedRoots_AreTheConformanceFolderFiles(string name)
    {
        var embedded = Path.Combine(AttestationFiles.Folder, "..", "..", "..", "src", "Lien.Attestation", "Resources", name);
        Assert.True(File.ReadAllBytes(Path.Combine(AttestationFiles.Folder, name)).AsSpan().SequenceEqual(File.ReadAllBytes(embedded)),
            $"src/Lien.Attestation/Resources/{name} differs from tests/conformance/android-key-attestation/{name}: copy it again.");
    }
}
