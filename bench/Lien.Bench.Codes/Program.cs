using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Lien.Bench.Codes -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Lien.Bench.Codes.EncodeBenchmarks).Assembly).Run(args);
