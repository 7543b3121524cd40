using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Lien.Server.Tests.Demo;

/// <summary>The README's first command, started as a newcomer would: a second demo on a used port.</summary>
public sealed class DemoStartTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "lien-demo-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Demo_PortHeldByAnotherProgram_ExitsNonZeroWithOneClearLineAndTouchesNothing()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Lien.Server.dll"));
        foreach (var a in new[] { "--demo", "--urls", $"http://127.0.0.1:{port}" }) info.ArgumentList.Add(a);
        info.Environment["Lien__DataDir"] = _dataDir;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);

        Assert.NotEqual(0, process.ExitCode);
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = Assert.Single(lines);
        Assert.Contains($"http://127.0.0.1:{port} is already in use", line);
        Assert.Contains("--urls", line);
        Assert.DoesNotContain("Exception", await stdout);
        Assert.False(File.Exists(Path.Combine(_dataDir, "lien.db")), "the demo seeded a database it could not serve");
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, true);
    }
}
