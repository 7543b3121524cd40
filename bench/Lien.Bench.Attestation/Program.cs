using System.Diagnostics;
using BenchmarkDotNet.Running;
using Lien.Bench.Attestation;

// dotnet run -c Release --project bench/Lien.Bench.Attestation -- --filter '*'        (BenchmarkDotNet, wall time)
// dotnet run -c Release --project bench/Lien.Bench.Attestation -- cpu [seconds]       (verifications per CPU-second)
// The second counts the thread's CPU time rather than the clock's, so the figure per core holds on a machine that
// other work shares (the first is then inflated by waiting for a core).
if (args is ["cpu", ..])
{
    var seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;
    foreach (var pixel in new[] { "akita/sdk34/TEE_EC_NONE", "blueline/sdk28/TEE_EC_NONE", "tegu/sdk36/TEE_EC_2026_ROOT" })
    {
        var bench = new VerifyBenchmarks { Pixel = pixel };
        bench.Setup();
        Report($"Pixel chain {pixel}", () => bench.PixelChain(), seconds);
    }
    var authority = new AuthorityVerifyBenchmarks();
    authority.Setup();
    Report("Test authority chain, enrollment policy", authority.AuthorityChain, seconds);
    authority.Cleanup();
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(VerifyBenchmarks).Assembly).Run(args);

static void Report(string name, Func<bool> verify, double seconds)
{
    for (var i = 0; i < 200; i++) verify(); // warm-up: JIT, caches of shared certificates and keys
    var process = Process.GetCurrentProcess();
    var cpuStart = process.TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    var count = 0;
    while (wall.Elapsed.TotalSeconds < seconds)
    {
        if (!verify()) throw new InvalidOperationException(name + " stopped verifying");
        count++;
    }
    process.Refresh();
    var cpu = (process.TotalProcessorTime - cpuStart).TotalSeconds;
    Console.WriteLine($"{name}: {count} verifications, {count / cpu:F0} per CPU-second ({cpu / count * 1e6:F0} µs CPU each), {count / wall.Elapsed.TotalSeconds:F0} per wall-second");
}
