namespace Lien.Server.Tests;

/// <summary><c>lien simulate</c> against the real server: virtual devices that are real agents over real HTTP.</summary>
public sealed class SimulatorTests : IClassFixture<SqliteServer>
{
    private readonly SqliteServer _server;

    public SimulatorTests(SqliteServer server)
    {
        _server = server;
        // The simulated devices run on the machine's clock; the server's own (fake) clock is brought level with it.
        var now = TimeProvider.System.GetUtcNow();
        if (now > server.Time.GetUtcNow()) server.Time.SetUtcNow(now);
    }

    private string Url => _server.Client().BaseAddress!.ToString();

    // The simulator registers an overdue plan; its borrower is warned at once and may be locked a day later, inside the lock
    // window. The server's clock walks there while the agents run (they trust the signed issuedAt, so a server ahead of
    // their own clock is no trouble).
    private Task LockTheOverdueWhileSimulating(Tenant a) => Task.Run(async () =>
    {
        for (var i = 0; i < 100; i++)
        {
            var plans = (await a.Admin.ReadAsync("/v1/plans")).GetProperty("items").EnumerateArray().ToList();
            if (plans.FirstOrDefault(p => p.Str("status") == "Overdue") is { ValueKind: System.Text.Json.JsonValueKind.Object } overdue)
            {
                await Task.Delay(500); // the phones enroll first
                await _server.WalkUntilLockedAsync(overdue.GetProperty("deviceId").GetGuid());
                return;
            }
            await Task.Delay(50);
        }
    });

    [Theory]
    [InlineData("open")]
    [InlineData("enrollment-token")]
    public async Task Simulate_TwoDevicesOneOverdue_LocksThenUnlocksAfterPayment(string enrollment)
    {
        var a = await _server.NewLenderAsync(enrollment: enrollment);

        var locking = LockTheOverdueWhileSimulating(a);
        var (code, output, error) = await LienCommand.RunAsync("simulate", "--server", Url, "--key", a.Token, "--devices", "2", "--overdue", "1",
            "--duration", "7s", "--interval", "1s", "--pay-after", "4s");
        await locking;

        Assert.True(code == 0, error + output);
        Assert.Contains("registered 2 devices with Test Lender (1 overdue)", output);
        Assert.Contains("enrolled 2  Unlocked 1  Locked 1  Released 0", output);
        Assert.Contains("paid 1 overdue plans", output);
        var final = output.Split('\n').Single(l => l.StartsWith("final ", StringComparison.Ordinal));
        Assert.Contains("enrolled 2  Unlocked 2  Locked 0  Released 0", final);
        Assert.Contains("refused 0", final);
    }

    [Fact]
    public async Task Simulate_AttestedLenderWithATrustedAuthority_PhonesEnrollAttested()
    {
        // The server trusts the tests' attestation authority (Lien:Attestation:TrustedRoots); simulated phones attest with it.
        var a = await _server.NewLenderAsync(enrollment: "attested");
        var authority = Path.Combine(Path.GetTempPath(), $"lien-authority-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(authority, TestAttestation.Authority.ExportPem());
        try
        {
            var locking = LockTheOverdueWhileSimulating(a);
            var (code, output, error) = await LienCommand.RunAsync("simulate", "--server", Url, "--key", a.Token, "--devices", "2", "--overdue", "1",
                "--duration", "4s", "--interval", "1s", "--attest-with", authority);
            await locking;
            Assert.True(code == 0, error + output);
            var final = output.Split('\n').Single(l => l.StartsWith("final ", StringComparison.Ordinal));
            Assert.Contains("enrolled 2  Unlocked 1  Locked 1", final);
            var devices = (await a.Admin.ReadAsync("/v1/devices")).GetProperty("items").EnumerateArray().ToList();
            Assert.All(devices, d => Assert.StartsWith("attested: TrustedEnvironment", d.Str("enrolledWith")));
        }
        finally
        {
            File.Delete(authority);
        }
    }

    [Fact]
    public async Task Attestation_AuthorityCommand_WritesAnAuthorityAndItsRootKey()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"lien-authority-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var (authority, root) = (Path.Combine(dir, "authority.pem"), Path.Combine(dir, "root.pem"));
            var (code, output, error) = await LienCommand.RunAsync("attestation", "authority", authority, root);
            Assert.True(code == 0, error);
            Assert.Contains("Lien__Attestation__TrustedRoots", output);
            using var made = Lien.Attestation.AttestationAuthority.ImportPem(await File.ReadAllTextAsync(authority), TimeProvider.System);
            Assert.Contains(Convert.ToBase64String(made.RootPublicKey), (await File.ReadAllTextAsync(root)).ReplaceLineEndings(""));
            (code, _, error) = await LienCommand.RunAsync("attestation", "authority", authority, root);
            Assert.Equal(2, code);
            Assert.Contains("not overwritten", error);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Simulate_AttestedLender_PlainMessageSayingWhatToUse()
    {
        var a = await _server.NewLenderAsync(enrollment: "attested");
        var (code, _, error) = await LienCommand.RunAsync("simulate", "--server", Url, "--key", a.Token, "--devices", "1", "--duration", "1s");
        Assert.Equal(1, code);
        Assert.Contains("hardware key attestation", error);
        Assert.Contains("EnrollmentToken", error);
    }

    [Fact]
    public async Task SimulateWatch_LockedDevice_ShowsTheBorrowersLockScreen()
    {
        var a = await _server.NewLenderAsync(enrollment: "open"); // a simulated phone has no secure hardware to attest its key
        var device = await a.Admin.RegisterAsync();
        var today = DateOnly.FromDateTime(_server.Time.GetUtcNow().UtcDateTime);
        await a.Admin.PlanAsync(device.Id(), today.AddDays(-10), count: 1, backdated: true);
        await _server.WalkUntilLockedAsync(device.Id());

        var (code, output, error) = await LienCommand.RunAsync("simulate", "--server", Url, "--watch", device.Str("imei"), "--duration", "2s", "--interval", "1s");

        Assert.True(code == 0, error + output);
        Assert.Contains("LOCKED — Test Lender", output);
        Assert.Contains("This device is locked due to an overdue installment payment.", output);
        Assert.Contains("Amount due: KES 100", output);
        Assert.Contains("Help: 0800 723 000 or dial *483*7#", output);
        Assert.Contains("[Emergency call] [Enter unlock code] [Refresh]", output);
        var last = output[output.LastIndexOf("----", StringComparison.Ordinal)..];
        Assert.StartsWith("----\nLOCKED", last.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("lease seq 0", last);
    }
}
