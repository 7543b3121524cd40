using System.Text.RegularExpressions;

namespace Lien.Server.Tests.Architecture;

/// <summary>
/// The server's capability folders may use each other's entities and enums (the data), but their operations — every
/// other type — may only be called one way: no two folders call into each other, directly or around a circle.
/// Read from the source, so a new reach across folders shows up here the day it is written.
/// </summary>
public sealed partial class CapabilityGraphTests
{
    [Fact]
    public void CapabilityFolders_CallEachOther_WithoutCycles()
    {
        var graph = CapabilityGraph.Read(ServerSource());
        var cycle = graph.FindCycle();
        Assert.True(cycle is null, $"Capability folders call each other in a circle: {string.Join(" → ", cycle ?? [])}. Edges: {graph.Describe()}");
    }

    [Fact]
    public void FindCycle_TwoFoldersCallingEachOther_IsFound()
    {
        // The check itself can fail: a planted circle is reported.
        var graph = new CapabilityGraph(new Dictionary<string, HashSet<string>>
        {
            ["Payments"] = ["Leases"],
            ["Leases"] = ["Lenders"],
            ["Lenders"] = ["Payments"],
            ["Plans"] = ["Leases"],
        });
        var cycle = graph.FindCycle();
        Assert.NotNull(cycle);
        Assert.Equal(cycle[0], cycle[^1]);
        Assert.Equal(["Leases", "Lenders", "Payments"], cycle.Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Read_ServerSource_SeesTheKnownCalls()
    {
        var graph = CapabilityGraph.Read(ServerSource());
        // Payments call LeaseIssuer (a review after each payment); the plan book does too.
        Assert.Contains("Leases", graph.Edges["Payments"]);
        Assert.Contains("Leases", graph.Edges["Plans"]);
    }

    private static string ServerSource()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Lien.slnx")))
                return Path.Combine(dir.FullName, "src", "Lien.Server");
        throw new DirectoryNotFoundException($"No Lien.slnx above {AppContext.BaseDirectory}.");
    }

    internal sealed partial class CapabilityGraph(Dictionary<string, HashSet<string>> edges)
    {
        public Dictionary<string, HashSet<string>> Edges { get; } = edges;

        public static CapabilityGraph Read(string root)
        {
            var folders = Directory.GetDirectories(root)
                .Select(Path.GetFileName).OfType<string>()
                .Where(f => f is not ("bin" or "obj" or "Properties"))
                .ToList();
            var sources = folders.ToDictionary(f => f, f => Directory.GetFiles(Path.Combine(root, f), "*.cs", SearchOption.AllDirectories)
                .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}Migrations{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                .Select(File.ReadAllText).ToList());
            var all = string.Join('\n', sources.Values.SelectMany(s => s));
            var data = Entity().Matches(all).Select(m => m.Groups[1].Value).ToHashSet();
            data.UnionWith(Enum().Matches(all).Select(m => m.Groups[1].Value));
            // Operations: every declared type that is not data, by the folder that declares it.
            var owner = new Dictionary<string, string>();
            foreach (var (folder, files) in sources)
                foreach (var m in files.SelectMany(f => Declared().Matches(f)))
                    if (!data.Contains(m.Groups[2].Value)) owner.TryAdd(m.Groups[2].Value, folder);
            var edges = folders.ToDictionary(f => f, _ => new HashSet<string>());
            foreach (var (folder, files) in sources)
                foreach (var word in files.SelectMany(f => Word().Matches(StripComments(f))).Select(m => m.Value).Distinct())
                    if (owner.TryGetValue(word, out var other) && other != folder) edges[folder].Add(other);
            return new CapabilityGraph(edges);
        }

        /// <summary>The first circle found, as the folders walked (the first repeated at the end); null when none.</summary>
        public List<string>? FindCycle()
        {
            var done = new HashSet<string>();
            foreach (var start in Edges.Keys.Order(StringComparer.Ordinal))
                if (Walk(start, [], done) is { } cycle) return cycle;
            return null;
        }

        private List<string>? Walk(string node, List<string> path, HashSet<string> done)
        {
            if (path.IndexOf(node) is var at and >= 0) return [.. path[at..], node];
            if (done.Contains(node)) return null;
            path.Add(node);
            foreach (var next in Edges.GetValueOrDefault(node, []).Order(StringComparer.Ordinal))
                if (Walk(next, path, done) is { } cycle) return cycle;
            path.RemoveAt(path.Count - 1);
            done.Add(node);
            return null;
        }

        public string Describe() => string.Join("; ", Edges.Where(e => e.Value.Count > 0).OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => $"{e.Key} → {string.Join(", ", e.Value.Order(StringComparer.Ordinal))}"));

        private static string StripComments(string source) => Comment().Replace(source, "");

        [GeneratedRegex(@"IEntityTypeConfiguration<(\w+)>")]
        private static partial Regex Entity();

        [GeneratedRegex(@"\benum\s+(\w+)")]
        private static partial Regex Enum();

        // Top-level types only (a nested private record named Message is nobody else's business).
        [GeneratedRegex(@"^(?:internal|public)\s+(?:(?:sealed|static|abstract|partial|readonly)\s+)*(class|record|interface|struct)\s+(?:struct\s+)?(\w+)", RegexOptions.Multiline)]
        private static partial Regex Declared();

        [GeneratedRegex(@"\b[A-Z]\w*")]
        private static partial Regex Word();

        [GeneratedRegex(@"//[^\n]*")]
        private static partial Regex Comment();
    }
}
