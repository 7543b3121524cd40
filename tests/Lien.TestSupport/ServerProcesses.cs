using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Npgsql;

namespace Lien.TestSupport;

/// <summary>
/// Real server processes (<c>dotnet Lien.Server.dll</c>) on one fresh PostgreSQL database: several nodes, or one node
/// killed and started again. Nothing is shared between them but the database and the master key.
/// </summary>
public sealed partial class ServerProcesses : IAsyncDisposable
{
    private readonly string _database = "lien_nodes_" + Guid.NewGuid().ToString("N");
    private readonly string _masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "lien-nodes-" + Guid.NewGuid().ToString("N"));
    private readonly List<Process> _processes = [];

    private ServerProcesses() { }

    /// <summary>Settings every process gets, on top of the database's (e.g. <c>Lien__Stream__Heartbeat</c>).</summary>
    public Dictionary<string, string> Environment { get; } = new()
    {
        ["Logging__LogLevel__Default"] = "Warning", ["ASPNETCORE_ENVIRONMENT"] = "Production", ["Lien__WarmUp"] = "false", // tests/Lien.Server.Tests/Readiness warm up
    };

    /// <summary>The nodes' database, for a test that seeds or inspects it directly.</summary>
    public string Connection => new NpgsqlConnectionStringBuilder(LienServer.PostgresAdmin) { Database = _database }.ConnectionString;

    /// <summary>A fresh database; skips the test, visibly, when PostgreSQL is not configured.</summary>
    public static async Task<ServerProcesses> CreateAsync()
    {
        if (LienServer.PostgresAdmin is null) Assert.Skip($"needs {LienServer.PostgresVariable}");
        var processes = new ServerProcesses();
        await LienServer.PostgresAdminAsync($"CREATE DATABASE \"{processes._database}\"");
        return processes;
    }

    /// <summary>Runs <c>lenders create</c> and returns the admin API key it prints; <paramref name="enrollment"/> is its enrollment policy.</summary>
    public async Task<string> CreateLenderAsync(string name, string enrollment = "open")
    {
        var command = Start(["lenders", "create", "--name", name, "--currency", "KES", "--time-zone", "Africa/Nairobi", "--enrollment", enrollment], null);
        var output = await command.StandardOutput.ReadToEndAsync();
        await command.WaitForExitAsync();
        Assert.True(command.ExitCode == 0, await command.StandardError.ReadToEndAsync());
        return KeyPattern().Match(output).Value;
    }

    /// <summary>Starts a node on <paramref name="port"/> (a free one when null) and waits until it answers.</summary>
    public async Task<(Process Process, HttpClient Client)> StartNodeAsync(int? port = null)
    {
        port ??= FreePort();
        var process = Start([], port);
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        for (var i = 0; i < 300; i++)
        {
            if (process.HasExited) Assert.Fail($"node exited: {await process.StandardError.ReadToEndAsync()}");
            try
            {
                if ((await client.GetAsync($"/v1/lenders/{Guid.NewGuid()}/keys")).StatusCode == HttpStatusCode.NotFound) return (process, client);
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("node did not start");
    }

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private Process Start(string[] args, int? port)
    {
        var environment = new Dictionary<string, string>(Environment)
        {
            ["Database__Provider"] = "postgres",
            ["ConnectionStrings__Lien"] = Connection,
            ["Lien__MasterKey"] = _masterKey,
            ["Lien__DataDir"] = _dataDir,
        };
        foreach (var (key, value) in TestAttestation.SettingsAsync().GetAwaiter().GetResult()) environment[key.Replace(":", "__", StringComparison.Ordinal)] = value!;
        if (port is { } p) environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{p}";
        var process = ServerProcess.Start(args, environment);
        _processes.Add(process);
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            p.Dispose();
        }
        NpgsqlConnection.ClearAllPools();
        await LienServer.PostgresAdminAsync($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, true);
    }

    [GeneratedRegex("lien_ak[0-9a-f]{12}_[0-9a-f]{64}")]
    private static partial Regex KeyPattern();
}
