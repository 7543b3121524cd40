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

        var (code, stdout, stderr) = await ServerProcess.RunAsync(["--demo", "--urls", $"http://127.0.0.1:{port}"],
            new Dictionary<string, string> { ["Lien__DataDir"] = _dataDir });

        Assert.NotEqual(0, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = Assert.Single(lines);
        Assert.Contains($"http://127.0.0.1:{port} is already in use", line);
        Assert.Contains("--urls", line);
        Assert.DoesNotContain("Exception", stdout);
        Assert.False(File.Exists(Path.Combine(_dataDir, "lien.db")), "the demo seeded a database it could not serve");
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, true);
    }
}
