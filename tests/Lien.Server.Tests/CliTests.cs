using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Lien.Server.Lenders;

namespace Lien.Server.Tests;

/// <summary>The <c>lien</c> CLI against the real server over loopback, as an operator would use it.</summary>
public sealed partial class CliTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private string Url => server.Client().BaseAddress!.ToString();

    [Fact]
    public async Task Cli_RegisterPlanPay_UnlocksAndShowsTheStory()
    {
        var a = await server.NewLenderAsync();
        var imei = LenderApi.NewImei();
        var (code, output, error) = await LienCommand.RunAsync("devices", "register", "--imei", imei, "--model", "Spark 20", "--server", Url, "--key", a.Token);
        Assert.True(code == 0, error);
        var deviceId = DeviceIdPattern().Match(output).Groups[1].Value;

        (code, output, error) = await LienCommand.RunAsync("plans", "create", "--device", deviceId, "--price", "35000", "--down-payment", "5000", "--installments", "3",
            "--first-due", "2026-01-10", "--server", Url, "--key", a.Token);
        Assert.True(code == 0, error);
        Assert.Contains("Overdue", output);
        var reference = ReferencePattern().Match(output).Groups[1].Value;
        await server.WalkUntilLockedAsync(Guid.Parse(deviceId)); // a lock warning first, the lock a day later

        (code, output, error) = await LienCommand.RunAsync("devices", "show", deviceId, "--server", Url, "--key", a.Token);
        Assert.True(code == 0, error);
        Assert.Contains("Locked", output);
        Assert.Contains("amount due: KES 100", output); // what unlocks it: the installment it was warned of

        (code, output, error) = await LienCommand.RunAsync("payments", "post", "--plan", reference, "--amount", "30000", "--currency", "KES", "--provider", "mpesa",
            "--tx", "QK7 1", "--server", Url, "--key", a.Token);
        Assert.True(code == 0, error);
        Assert.Contains("Released", output);

        (code, output, _) = await LienCommand.RunAsync("devices", "list", "--search", imei, "--server", Url, "--key", a.Token);
        Assert.Equal(0, code);
        Assert.Contains(imei, output);
        (code, output, _) = await LienCommand.RunAsync("audit", "verify", "--server", Url, "--key", a.Token);
        Assert.Equal(0, code);
        Assert.StartsWith("intact", output);
    }

    [Fact]
    public async Task Cli_EnrollmentToken_PrintsTheTokenAndAQrCodeAndWritesTheSvg()
    {
        var a = await server.NewLenderAsync(enrollment: "enrollment-token");
        var device = await a.Admin.RegisterAsync();
        var svg = Path.Combine(Path.GetTempPath(), $"lien-qr-{Guid.NewGuid():N}.svg");
        try
        {
            var (code, output, error) = await LienCommand.RunAsync("devices", "enrollment-token", device.Id().ToString(), "--svg", svg, "--server", Url, "--key", a.Token);
            Assert.True(code == 0, error);
            var token = TokenPattern().Match(output).Groups[1].Value;
            Assert.Equal(22, token.Length);
            Assert.Contains("█", output); // the QR code, drawn in block characters
            Assert.Contains("<svg", await File.ReadAllTextAsync(svg));

            // The printed token enrolls the phone, once.
            using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
            var enroll = await server.Client().EnrollmentAsync(key, [device.Str("imei")], token, attest: false);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await server.Client().PostAsJsonAsync("/v1/device/enroll", enroll)).StatusCode);
            (code, output, error) = await LienCommand.RunAsync("devices", "show", device.Id().ToString(), "--server", Url, "--key", a.Token);
            Assert.True(code == 0, error);
            Assert.Contains("(enrollment token)", output);
        }
        finally
        {
            File.Delete(svg);
        }
    }

    [Fact]
    public async Task Cli_KeysRotateThenRevoke_TheOldKeyLeavesTheTrustKeys()
    {
        var a = await server.NewLenderAsync();
        var (code, output, error) = await LienCommand.RunAsync("keys", "rotate", "--server", Url, "--key", a.Token);
        Assert.True(code == 0, error);
        var kids = KidPattern().Matches(output).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(2, kids.Count);

        (code, _, error) = await LienCommand.RunAsync("keys", "revoke", kids[1], "--server", Url, "--key", a.Token);
        Assert.Equal(1, code);
        Assert.Contains("rotate", error); // the active key: rotate first

        (code, output, error) = await LienCommand.RunAsync("keys", "revoke", kids[0], "--server", Url, "--key", a.Token);
        Assert.True(code == 0, error);
        Assert.Equal([kids[1]], KidPattern().Matches(output).Select(m => m.Groups[1].Value));
    }

    [GeneratedRegex(@"trust key (lk[0-9a-f]+)")]
    private static partial Regex KidPattern();

    [Fact]
    public async Task Cli_BadInput_PlainMessagesAndNonZeroExit()
    {
        var a = await server.NewLenderAsync();
        var (code, _, error) = await LienCommand.RunAsync("devices", "register", "--imei", "490154203237517", "--server", Url, "--key", a.Token);
        Assert.Equal(1, code);
        Assert.Contains("imei: IMEI '490154203237517' fails its Luhn check", error);

        (code, _, error) = await LienCommand.RunAsync("devices", "list", "--server", Url);
        Assert.Equal(1, code);
        Assert.Contains("--key", error);

        (code, _, error) = await LienCommand.RunAsync("devices", "list", "--server", "http://127.0.0.1:1", "--key", a.Token);
        Assert.Equal(1, code);
        Assert.Contains("cannot reach", error);

        (code, _, error) = await LienCommand.RunAsync("devices", "import", "/no/such/file.csv", "--server", Url, "--key", a.Token);
        Assert.Equal(1, code);
        Assert.Contains("No such file", error);

        (code, _, _) = await LienCommand.RunAsync("plans", "show", "not-a-guid", "--server", Url, "--key", a.Token);
        Assert.NotEqual(0, code);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public async Task LenderCommand_CreatesLenderWithAdminKey_RefusesBadSettings()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await LenderCommand.RunAsync(server.Services, ["create", "--name", "Mkopo Ltd", "--currency", "TZS", "--time-zone", "Africa/Dar_es_Salaam"], output, error);
        Assert.True(code == 0, error.ToString());
        var token = Regex.Match(output.ToString(), "(lien_ak[0-9a-f]{12}_[0-9a-f]{64})").Groups[1].Value;
        var lender = await server.Client(token).ReadAsync("/v1/lender");
        Assert.Equal("TZS", lender.GetProperty("settings").Str("currency"));

        error = new StringWriter();
        code = await LenderCommand.RunAsync(server.Services, ["create", "--name", "X", "--currency", "KSH", "--time-zone", "Nairobi"], new StringWriter(), error);
        Assert.Equal(2, code);
        Assert.Contains("currency must be an ISO 4217 code", error.ToString());
        Assert.Contains("timeZone must be an IANA time zone", error.ToString());
    }

    [Fact]
    public async Task Cli_DeviceShow_WrongCodesTheAgentReported()
    {
        var a = await server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var enrolled = await server.Client().EnrollAsync(device.Str("imei"));
        var (code, output, error) = await LienCommand.RunAsync("devices", "show", device.Id().ToString(), "--server", Url, "--key", a.Token);
        Assert.True(code == 0, error);
        Assert.DoesNotContain("wrong codes", output);

        await (await server.Client().CheckInAsync(enrolled.DeviceToken, enrolled.Seq, wrongCodes: 4)).Json(System.Net.HttpStatusCode.OK);
        (code, output, error) = await LienCommand.RunAsync("devices", "show", device.Id().ToString(), "--server", Url, "--key", a.Token);

        Assert.True(code == 0, error);
        Assert.Contains($"wrong codes typed since enrollment: 4 (reported {server.Time.GetUtcNow().ToString("u", System.Globalization.CultureInfo.InvariantCulture)})", output);
    }

    [GeneratedRegex("registered ([0-9a-f-]{36})")]
    private static partial Regex DeviceIdPattern();

    [GeneratedRegex(@"enrollment token for \S+: (\S+) ")]
    private static partial Regex TokenPattern();

    [GeneratedRegex("ref (LN-[0-9A-Z]{6})")]
    private static partial Regex ReferencePattern();
}
