using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Lien.Protocol;
using Npgsql;

namespace Lien.Server.Tests;

/// <summary>
/// Two real server processes on one PostgreSQL database: a device streaming from node A is unlocked by a payment
/// posted to node B. Nothing is shared but the database.
/// </summary>
public sealed partial class MultiNodeTests : IAsyncLifetime
{
    private readonly string _database = "lien_nodes_" + Guid.NewGuid().ToString("N");
    private readonly string _masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "lien-nodes-" + Guid.NewGuid().ToString("N"));
    private readonly List<Process> _nodes = [];

    private string Connection => new NpgsqlConnectionStringBuilder(LienServer.PostgresAdmin) { Database = _database }.ConnectionString;

    public async ValueTask InitializeAsync()
    {
        if (LienServer.PostgresAdmin is null) return;
        await using var admin = new NpgsqlConnection(LienServer.PostgresAdmin);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{_database}\"", admin);
        await create.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _nodes)
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            p.Dispose();
        }
        if (LienServer.PostgresAdmin is null) return;
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(LienServer.PostgresAdmin);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, true);
    }

    private Process Start(string[] args, int? port)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Lien.Server.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["Database__Provider"] = "postgres";
        info.Environment["ConnectionStrings__Lien"] = Connection;
        info.Environment["Lien__MasterKey"] = _masterKey;
        info.Environment["Lien__DataDir"] = _dataDir;
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // No heartbeat within the test's wait: only a NOTIFY can wake node A's stream in time.
        info.Environment["Lien__Stream__Heartbeat"] = "00:10:00";
        if (port is { } p) info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{p}";
        var process = Process.Start(info)!;
        _nodes.Add(process);
        return process;
    }

    private async Task<HttpClient> NodeAsync()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var process = Start([], port);
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        for (var i = 0; i < 300; i++)
        {
            if (process.HasExited) Assert.Fail($"node exited: {await process.StandardError.ReadToEndAsync()}");
            try
            {
                if ((await client.GetAsync($"/v1/lenders/{Guid.NewGuid()}/keys")).StatusCode == HttpStatusCode.NotFound) return client;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("node did not start");
    }

    [Fact]
    public async Task TwoNodes_PaymentOnB_UnlocksDeviceStreamingFromA()
    {
        if (LienServer.PostgresAdmin is null) Assert.Skip($"needs {LienServer.PostgresVariable}");
        var nodeA = await NodeAsync();
        var nodeB = await NodeAsync();

        var command = Start(["lenders", "create", "--name", "Two Node Lender", "--currency", "KES", "--time-zone", "Africa/Nairobi"], null);
        var output = await command.StandardOutput.ReadToEndAsync();
        await command.WaitForExitAsync();
        Assert.True(command.ExitCode == 0, await command.StandardError.ReadToEndAsync());
        var token = KeyPattern().Match(output).Value;
        var adminB = new HttpClient { BaseAddress = nodeB.BaseAddress };
        adminB.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

        var device = await adminB.RegisterAsync();
        var today = Policy.LocalDate(TimeProvider.System.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi"));
        var plan = await adminB.PlanAsync(device.Id(), today.AddDays(-10), count: 2);
        var enrolled = await nodeA.EnrollAsync(device.Str("imei"));
        await nodeA.AckAsync(enrolled.DeviceToken, enrolled.Seq);

        await using var stream = await Sse.OpenAsync(nodeA, enrolled.DeviceToken, enrolled.Seq);
        await (await adminB.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        var (seq, jws) = await stream.NextLeaseAsync();
        var claims = Phone.VerifiedClaims(jws, enrolled.TrustKeys);
        Assert.Equal(LeaseMode.Unlocked, claims.Mode);
        Assert.Equal(seq, claims.Seq);

        await nodeA.AckAsync(enrolled.DeviceToken, seq);
        Assert.Equal(seq, (await adminB.ReadAsync($"/v1/devices/{device.Id()}")).Long("appliedSeq"));
    }

    [GeneratedRegex("lien_ak[0-9a-f]{12}_[0-9a-f]{64}")]
    private static partial Regex KeyPattern();
}
