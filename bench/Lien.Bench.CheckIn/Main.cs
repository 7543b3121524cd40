namespace Lien.Bench.CheckIn;

/// <summary>
/// The check-in benchmark's two halves: <c>seed</c> fills a SQLite database with a fleet, <c>bare</c> serves the
/// baseline endpoint. bench/checkin.sh drives both with wrk.
/// </summary>
internal static class BenchMain
{
    private const string Usage = """
        usage:
          Lien.Bench.CheckIn seed --data DIR [--devices 1000000] [--tokens FILE] [--token-count 100000]
          Lien.Bench.CheckIn bare --port PORT [--body-bytes 1200]
        seed reads Lien:MasterKey from the environment (Lien__MasterKey) like the server does.
        """;

    public static async Task<int> Main(string[] args)
    {
        var options = Options(args.Skip(1));
        switch (args.FirstOrDefault())
        {
            case "seed" when options.TryGetValue("data", out var data):
                var tokens = options.GetValueOrDefault("tokens") ?? Path.Combine(data, "tokens.txt");
                return await FleetSeed.RunAsync(Path.GetFullPath(data), Int(options, "devices", 1_000_000), tokens, Int(options, "token-count", 100_000));
            case "bare" when options.TryGetValue("port", out var port):
                await BareEndpoint.RunAsync(int.Parse(port, System.Globalization.CultureInfo.InvariantCulture), Int(options, "body-bytes", 1200));
                return 0;
            default:
                await Console.Error.WriteLineAsync(Usage);
                return 2;
        }
    }

    private static Dictionary<string, string> Options(IEnumerable<string> args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            if (!e.Current.StartsWith("--", StringComparison.Ordinal)) continue;
            var name = e.Current[2..];
            options[name] = e.MoveNext() ? e.Current : "";
        }
        return options;
    }

    private static int Int(Dictionary<string, string> options, string name, int fallback) =>
        options.TryGetValue(name, out var v) ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
