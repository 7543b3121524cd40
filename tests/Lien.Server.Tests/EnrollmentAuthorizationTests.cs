using System.Buffers.Text;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Lien.Protocol;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Tests;

/// <summary>
/// Who may enroll as a registered phone: a single-use challenge in every enrollment, and the lender's policy (attested,
/// enrollment-token, open). An enrollment that does not meet the bar changes nothing: the genuine phone keeps its
/// token, stream and secret.
/// </summary>
public abstract class EnrollmentAuthorizationTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    private async Task<(Tenant Lender, string Imei, Guid DeviceId)> RegisteredAsync(string enrollment)
    {
        var lender = await Server.NewLenderAsync(enrollment: enrollment);
        var imei = LenderApi.NewImei();
        var device = await lender.Admin.RegisterAsync(imei);
        await lender.Admin.PlanAsync(device.Id(), Server.Today.AddDays(20));
        return (lender, imei, device.Id());
    }

    private async Task<HttpResponseMessage> PostAsync(EnrollRequest request) => await Server.Client().PostAsJsonAsync("/v1/device/enroll", request);

    private static async Task<string> IssueTokenAsync(Tenant lender, Guid deviceId) =>
        (await (await lender.Admin.PostAsync($"/v1/devices/{deviceId}/enrollment-token", null)).Json(HttpStatusCode.Created)).Str("token");

    // --- the challenge ---------------------------------------------------------------------------------------------

    [Fact]
    public async Task Challenge_Issued_FortyBytesValidTenMinutesWithTheServersTime()
    {
        await Server.NewLenderAsync(); // skips visibly where the store is not configured
        var c = await Server.Client().ChallengeAsync();
        Assert.Equal(40, Base64Url.DecodeFromChars(c.Challenge).Length);
        Assert.Equal(Server.Clock.GetUtcNow().ToUnixTimeSeconds(), c.ServerTime.ToUnixTimeSeconds(), 2.0);
        Assert.InRange(c.ExpiresAt - c.ServerTime, TimeSpan.FromMinutes(9.9), TimeSpan.FromMinutes(10));
        Assert.NotEqual(c.Challenge, (await Server.Client().ChallengeAsync()).Challenge);
    }

    [Fact]
    public async Task Enroll_ChallengeUsedTwice_SecondRefusedAndChangesNothing()
    {
        var (_, imei, _) = await RegisteredAsync("open");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = await Server.Client().EnrollmentAsync(key, [imei]);
        var first = (await (await PostAsync(request)).Json(HttpStatusCode.OK)).Deserialize<EnrollResponse>(LeaseClaims.Json)!;

        var p = await (await PostAsync(request)).Problem(HttpStatusCode.Forbidden);
        Assert.Equal("https://lien.dev/problems/enrollment-refused", p.Str("type"));
        Assert.Contains("challenge was used", p.Str("detail"));
        Assert.Equal(HttpStatusCode.OK, (await Server.Client().CheckInAsync(first.DeviceToken, first.Seq)).StatusCode);
    }

    [Fact]
    public async Task SpentChallenges_KeptUntilTheyExpire_ThenCleared()
    {
        if (Server.Clock != Server.Time) return; // moves the server's clock
        var (_, imei, _) = await RegisteredAsync("open");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var first = await Server.Client().EnrollmentAsync(key, [imei]);
        await (await PostAsync(first)).Json(HttpStatusCode.OK);
        var id = Base64Url.DecodeFromChars(first.Challenge)[9..];
        Assert.True(await Server.WithDbAsync(db => db.SpentChallenges.AnyAsync(c => c.Id == id)));
        Server.Time.Advance(TimeSpan.FromMinutes(21)); // past its expiry, and past the sweep's pause
        await (await PostAsync(await Server.Client().EnrollmentAsync(key, [imei]))).Json(HttpStatusCode.OK);
        Assert.False(await Server.WithDbAsync(db => db.SpentChallenges.AnyAsync(c => c.Id == id)));
    }

    [Fact]
    public async Task Enroll_ChallengeForgedOrExpired_BadRequestNamingChallenge()
    {
        var (_, imei, _) = await RegisteredAsync("open");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = await Server.Client().EnrollmentAsync(key, [imei]);
        var bytes = Base64Url.DecodeFromChars(request.Challenge);
        bytes[20] ^= 1;
        var forged = Resigned(request with { Challenge = Base64Url.EncodeToString(bytes) }, key);
        var p = await (await PostAsync(forged)).Problem(HttpStatusCode.BadRequest);
        Assert.Contains("challenge was not issued by this server", p.GetProperty("errors").GetProperty("challenge")[0].GetString());

        if (Server.Clock != Server.Time) return; // the rest moves the server's clock
        var stale = await Server.Client().EnrollmentAsync(key, [imei]);
        Server.Time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        p = await (await PostAsync(Resigned(stale with { SignedAt = Server.Time.GetUtcNow().ToUnixTimeSeconds() }, key))).Problem(HttpStatusCode.BadRequest);
        Assert.Contains("challenge has expired", p.GetProperty("errors").GetProperty("challenge")[0].GetString());
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(301)]
    public async Task Enroll_SignedAtOutsideFiveMinutes_BadRequestNamingSignedAt(int offsetSeconds)
    {
        var (_, imei, _) = await RegisteredAsync("open");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = await Server.Client().EnrollmentAsync(key, [imei]);
        var p = await (await PostAsync(Resigned(request with { SignedAt = request.SignedAt + offsetSeconds }, key))).Problem(HttpStatusCode.BadRequest);
        Assert.True(p.GetProperty("errors").TryGetProperty("signedAt", out _), p.GetRawText());
    }

    [Fact]
    public async Task Enroll_Answer_EchoesTheNonce()
    {
        var (_, imei, _) = await RegisteredAsync("open");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = await Server.Client().EnrollmentAsync(key, [imei]);
        var answer = (await (await PostAsync(request)).Json(HttpStatusCode.OK)).Deserialize<EnrollResponse>(LeaseClaims.Json)!;
        Assert.Equal(request.Nonce, answer.Nonce);
    }

    [Theory]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("not base64url!!!!!!!!!!!!")]
    public async Task Enroll_BadNonce_BadRequestNamingNonce(string nonce)
    {
        var (_, imei, _) = await RegisteredAsync("open");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = await Server.Client().EnrollmentAsync(key, [imei]);
        var p = await (await PostAsync(Resigned(request with { Nonce = nonce }, key))).Problem(HttpStatusCode.BadRequest);
        Assert.True(p.GetProperty("errors").TryGetProperty("nonce", out _), p.GetRawText());
    }

    // --- open ------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Open_LenderShowsTheWarningAndTheDeviceSaysOpen()
    {
        var (lender, imei, deviceId) = await RegisteredAsync("open");
        var view = await lender.Admin.ReadAsync("/v1/lender");
        Assert.Equal("Open", view.GetProperty("settings").Str("enrollmentPolicy"));
        Assert.Contains(view.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.StartsWith("Open enrollment", StringComparison.Ordinal));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await (await PostAsync(await Server.Client().EnrollmentAsync(key, [imei], attest: false))).Json(HttpStatusCode.OK);
        Assert.Equal("open", (await lender.Admin.ReadAsync($"/v1/devices/{deviceId}")).Str("enrolledWith"));
    }

    [Fact]
    public async Task Attested_LenderShowsNoWarning()
    {
        var (lender, _, _) = await RegisteredAsync("attested");
        var view = await lender.Admin.ReadAsync("/v1/lender");
        Assert.Equal("Attested", view.GetProperty("settings").Str("enrollmentPolicy"));
        Assert.Empty(view.GetProperty("warnings").EnumerateArray());
    }

    [Fact]
    public async Task Settings_PolicyChangedByAdmin_TakesEffect()
    {
        var (lender, imei, _) = await RegisteredAsync("open");
        var r = await lender.Admin.PatchAsJsonAsync("/v1/lender", new { enrollmentPolicy = "EnrollmentToken" });
        Assert.Equal("EnrollmentToken", (await r.Json(HttpStatusCode.OK)).GetProperty("settings").Str("enrollmentPolicy"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await (await PostAsync(await Server.Client().EnrollmentAsync(key, [imei], attest: false))).Problem(HttpStatusCode.Forbidden);
        var bad = await lender.Admin.PatchAsJsonAsync("/v1/lender", new { enrollmentPolicy = "Anyone" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    // --- enrollment tokens -----------------------------------------------------------------------------------------

    [Fact]
    public async Task Token_IssuedForADevice_EnrollsOnceOnly()
    {
        var (lender, imei, deviceId) = await RegisteredAsync("enrollment-token");
        var token = await IssueTokenAsync(lender, deviceId);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var answer = (await (await PostAsync(await Server.Client().EnrollmentAsync(key, [imei], token, attest: false))).Json(HttpStatusCode.OK))
            .Deserialize<EnrollResponse>(LeaseClaims.Json)!;
        Assert.Equal(deviceId, answer.DeviceId);
        Assert.Equal("enrollment token", (await lender.Admin.ReadAsync($"/v1/devices/{deviceId}")).Str("enrolledWith"));

        using var again = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = await (await PostAsync(await Server.Client().EnrollmentAsync(again, [imei], token, attest: false))).Problem(HttpStatusCode.Forbidden);
        Assert.Contains("used already", p.Str("detail"));
        Assert.Equal(HttpStatusCode.OK, (await Server.Client().CheckInAsync(answer.DeviceToken, answer.Seq)).StatusCode);
    }

    [Fact]
    public async Task Token_NewOneIssued_TheEarlierStopsWorking()
    {
        var (lender, imei, deviceId) = await RegisteredAsync("enrollment-token");
        var first = await IssueTokenAsync(lender, deviceId);
        var second = await IssueTokenAsync(lender, deviceId);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = await (await PostAsync(await Server.Client().EnrollmentAsync(key, [imei], first, attest: false))).Problem(HttpStatusCode.Forbidden);
        Assert.Contains("replaced by a newer one", p.Str("detail"));
        await (await PostAsync(await Server.Client().EnrollmentAsync(key, [imei], second, attest: false))).Json(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Token_OfAnotherDevice_Refused()
    {
        var (lender, imei, _) = await RegisteredAsync("enrollment-token");
        var other = await lender.Admin.RegisterAsync();
        var token = await IssueTokenAsync(lender, other.Id());
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = await (await PostAsync(await Server.Client().EnrollmentAsync(key, [imei], token, attest: false))).Problem(HttpStatusCode.Forbidden);
        Assert.Contains("not one issued for this device", p.Str("detail"));
    }

    [Fact]
    public async Task Token_Expired_Refused()
    {
        if (Server.Clock != Server.Time) return;
        var (lender, imei, deviceId) = await RegisteredAsync("enrollment-token");
        var token = await IssueTokenAsync(lender, deviceId);
        Server.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromSeconds(1));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = await (await PostAsync(await Server.Client().EnrollmentAsync(key, [imei], token, attest: false))).Problem(HttpStatusCode.Forbidden);
        Assert.Contains("expired", p.Str("detail"));
    }

    [Fact]
    public async Task Token_Issued_ProvisioningQrCarriesServerTokenAndPinnedKey()
    {
        var (lender, _, deviceId) = await RegisteredAsync("enrollment-token");
        var issued = await (await lender.Admin.PostAsync($"/v1/devices/{deviceId}/enrollment-token", null)).Json(HttpStatusCode.Created);
        var extras = JsonDocument.Parse(issued.Str("provisioning")).RootElement.GetProperty("android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE");
        Assert.Equal(issued.Str("token"), extras.Str("dev.lien.ENROLLMENT_TOKEN"));
        Assert.Equal(lender.LenderId.ToString(), extras.Str("dev.lien.LENDER_ID"));
        Assert.StartsWith("http", extras.Str("dev.lien.SERVER"));
        var keys = (await lender.Admin.ReadAsync("/v1/lender")).GetProperty("trustKeys").Deserialize<List<TrustKey>>(LeaseClaims.Json)!;
        Assert.Equal(keys[^1].Thumbprint(), extras.Str("dev.lien.LENDER_KEY_THUMBPRINT"));
        Assert.Contains("<svg", issued.Str("qrSvg"));
        Assert.Contains((await lender.Admin.ReadAsync("/v1/audit")).EnumerateArray(), e => e.Str("action") == "device.enrollment-token-issued");
    }

    [Fact]
    public async Task Token_ForAnotherLendersDevice_NotFound()
    {
        var (_, _, deviceId) = await RegisteredAsync("enrollment-token");
        var other = await Server.NewLenderAsync();
        await (await other.Admin.PostAsync($"/v1/devices/{deviceId}/enrollment-token", null)).Problem(HttpStatusCode.NotFound);
    }

    // --- the attacker who knows the IMEI ---------------------------------------------------------------------------

    [Theory]
    [InlineData("attested")]
    [InlineData("enrollment-token")]
    public async Task Attacker_KnowsTheImeiOnly_GetsNothingAndTheGenuinePhoneKeepsWorking(string policy)
    {
        var (lender, imei, deviceId) = await RegisteredAsync(policy);
        using var genuineKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var token = policy == "enrollment-token" ? await IssueTokenAsync(lender, deviceId) : null;
        var genuine = (await (await PostAsync(await Server.Client().EnrollmentAsync(genuineKey, [imei], token))).Json(HttpStatusCode.OK))
            .Deserialize<EnrollResponse>(LeaseClaims.Json)!;
        var secret = genuine.Codes!.Secret.Open(genuineKey, deviceId);
        var before = await lender.Admin.ReadAsync($"/v1/devices/{deviceId}");

        // The attacker's attempts: no attestation, no token, a spent token, a made-up token.
        using var attacker = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        foreach (var attempt in new[] { null, token, "dG9rZW4tb2YtMTYtYnl0ZXM" })
        {
            var r = await PostAsync(await Server.Client().EnrollmentAsync(attacker, [imei], attempt, attest: false));
            var body = await r.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
            Assert.DoesNotContain("deviceToken", body);
            Assert.DoesNotContain("lease", body);
            Assert.DoesNotContain("codes", body);
        }

        // The genuine phone: the same token checks in, its secret is unchanged, nothing on the device moved.
        Assert.Equal(HttpStatusCode.OK, (await Server.Client().CheckInAsync(genuine.DeviceToken, genuine.Seq)).StatusCode);
        var after = await lender.Admin.ReadAsync($"/v1/devices/{deviceId}");
        Assert.Equal(before.Str("enrolledAt"), after.Str("enrolledAt"));
        Assert.Equal(before.Str("enrolledWith"), after.Str("enrolledWith"));
        var codes = await lender.Admin.PostAsJsonAsync($"/v1/devices/{deviceId}/codes", new { type = "AddTime", days = 1, reason = "call centre" });
        Assert.Equal(HttpStatusCode.Created, codes.StatusCode);
        Assert.Equal(secret, genuine.Codes.Secret.Open(genuineKey, deviceId));

        // Each refusal is on the lender's audit trail, with why.
        var refused = (await lender.Admin.ReadAsync("/v1/audit")).EnumerateArray().Where(e => e.Str("action") == "device.enrollment-refused").ToList();
        Assert.Equal(3, refused.Count);
        Assert.All(refused, e => Assert.Equal($"device:{deviceId}", e.Str("subject")));
    }

    [Fact]
    public async Task Attested_GenuineChain_EnrollsAndTheLenderSeesWhatWasAttested()
    {
        var (lender, imei, deviceId) = await RegisteredAsync("attested");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await (await PostAsync(await Server.Client().EnrollmentAsync(key, [imei]))).Json(HttpStatusCode.OK);
        Assert.Equal("attested: TrustedEnvironment, lien Lien Test Phone", (await lender.Admin.ReadAsync($"/v1/devices/{deviceId}")).Str("enrolledWith"));
    }

    [Theory]
    [InlineData("another IMEI attested", "attested IMEI is not the IMEI registered")]
    [InlineData("no IMEI attested", "attest their IMEI")]
    [InlineData("software level", "does not hold")]
    [InlineData("unverified boot", "does not hold")]
    [InlineData("another key attested", "does not hold")]
    [InlineData("another challenge attested", "does not hold")]
    [InlineData("revoked intermediate", "does not hold")]
    [InlineData("untrusted authority", "does not hold")]
    public async Task Attested_ChainThatDoesNotHold_RefusedAndTheGenuinePhoneKeepsWorking(string what, string why)
    {
        var (_, imei, _) = await RegisteredAsync("attested");
        using var genuineKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var genuine = (await (await PostAsync(await Server.Client().EnrollmentAsync(genuineKey, [imei]))).Json(HttpStatusCode.OK))
            .Deserialize<EnrollResponse>(LeaseClaims.Json)!;

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var unsigned = await Server.Client().EnrollmentAsync(key, [imei], attest: false);
        var challenge = Base64Url.DecodeFromChars(unsigned.Challenge);
        using var stranger = Lien.Attestation.AttestationAuthority.Create(TimeProvider.System, "Stranger");
        var chain = what switch
        {
            "another IMEI attested" => TestAttestation.Chain(key, challenge, [LenderApi.NewImei()]),
            "no IMEI attested" => TestAttestation.Chain(key, challenge, []),
            "software level" => TestAttestation.Chain(key, challenge, [imei], adjust: r => r with { SecurityLevel = Lien.Attestation.SecurityLevel.Software }),
            "unverified boot" => TestAttestation.Chain(key, challenge, [imei], adjust: r => r with { VerifiedBootState = Lien.Attestation.VerifiedBootState.Unverified }),
            "another key attested" => TestAttestation.Chain(other, challenge, [imei]),
            "another challenge attested" => TestAttestation.Chain(key, RandomNumberGenerator.GetBytes(40), [imei]),
            "revoked intermediate" => TestAttestation.Chain(key, challenge, [imei], TestAttestation.Revoked),
            "untrusted authority" => TestAttestation.Chain(key, challenge, [imei], stranger),
            _ => throw new ArgumentException(what),
        };
        var p = await (await PostAsync(unsigned with { Attestation = chain })).Problem(HttpStatusCode.Forbidden);
        Assert.Contains(why, p.Str("detail"));
        Assert.Equal(HttpStatusCode.OK, (await Server.Client().CheckInAsync(genuine.DeviceToken, genuine.Seq)).StatusCode);
    }

    [Fact]
    public async Task Open_ChainSentThatDoesNotHold_StillRefused()
    {
        // Whatever the policy, an attestation that is sent is checked: never accepted unchecked.
        var (_, imei, _) = await RegisteredAsync("open");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var unsigned = await Server.Client().EnrollmentAsync(key, [imei], attest: false);
        var chain = TestAttestation.Chain(key, Base64Url.DecodeFromChars(unsigned.Challenge), [imei], TestAttestation.Revoked);
        await (await PostAsync(unsigned with { Attestation = chain })).Problem(HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[\"not base64!\"]")]
    [InlineData("[\"AAAA\",\"AAAA\",\"AAAA\",\"AAAA\",\"AAAA\",\"AAAA\",\"AAAA\",\"AAAA\",\"AAAA\",\"AAAA\",\"AAAA\"]")]
    public async Task Attestation_Malformed_BadRequestNamingAttestation(string attestation)
    {
        var (_, imei, _) = await RegisteredAsync("attested");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = JsonSerializer.SerializeToNode(await Server.Client().EnrollmentAsync(key, [imei], attest: false), LeaseClaims.Json)!;
        request["attestation"] = System.Text.Json.Nodes.JsonNode.Parse(attestation);
        var r = await Server.Client().PostAsync("/v1/device/enroll", new StringContent(request.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        Assert.True((await r.Problem(HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("attestation", out _));
    }

    [Fact]
    public async Task Attested_GarbageCertificates_RefusedNeverA500()
    {
        var (_, imei, _) = await RegisteredAsync("attested");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = await Server.Client().EnrollmentAsync(key, [imei], attest: false);
        var garbage = request with { Attestation = [Convert.ToBase64String(RandomNumberGenerator.GetBytes(600)), Convert.ToBase64String(RandomNumberGenerator.GetBytes(40))] };
        await (await PostAsync(garbage)).Problem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Attacker_UnderOpenEnrollment_EnrollsAsThePhone_WhichIsWhyOpenIsLabelled()
    {
        // The third policy, for the record: open enrollment lets whoever knows the IMEI in, retiring the genuine phone's
        // token and taking a fresh secret. That is what the label on every open lender says.
        var (lender, imei, deviceId) = await RegisteredAsync("open");
        using var genuineKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var genuine = (await (await PostAsync(await Server.Client().EnrollmentAsync(genuineKey, [imei], attest: false))).Json(HttpStatusCode.OK))
            .Deserialize<EnrollResponse>(LeaseClaims.Json)!;
        using var attacker = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var taken = (await (await PostAsync(await Server.Client().EnrollmentAsync(attacker, [imei], attest: false))).Json(HttpStatusCode.OK))
            .Deserialize<EnrollResponse>(LeaseClaims.Json)!;
        Assert.Equal(deviceId, taken.DeviceId);
        Assert.NotNull(taken.Codes!.Secret.Open(attacker, deviceId));
        await (await Server.Client().CheckInAsync(genuine.DeviceToken, genuine.Seq)).Problem(HttpStatusCode.Unauthorized);
        Assert.Contains((await lender.Admin.ReadAsync("/v1/lender")).GetProperty("warnings").EnumerateArray(),
            w => w.GetString() == "Open enrollment: anyone who knows a registered IMEI can enroll as that phone and take its offline-code secret. For development and demos only.");
    }

    [Fact]
    public async Task Attested_NoChainSent_RefusedSayingWhy()
    {
        var (_, imei, _) = await RegisteredAsync("attested");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = await (await PostAsync(await Server.Client().EnrollmentAsync(key, [imei], attest: false))).Problem(HttpStatusCode.Forbidden);
        Assert.Contains("attested by secure hardware", p.Str("detail"));
    }

    [Fact]
    public async Task Released_PhoneEnrollsWithoutTheBar_AndIsToldItIsFree()
    {
        var lender = await Server.NewLenderAsync(enrollment: "attested", settlementHoldHours: 0);
        var imei = LenderApi.NewImei();
        var device = await lender.Admin.RegisterAsync(imei);
        var plan = await lender.Admin.PlanAsync(device.Id(), Server.Today.AddDays(10), count: 1);
        await (await lender.Admin.PayAsync(plan.Id(), 100_00)).Json(HttpStatusCode.Created);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var answer = (await (await PostAsync(await Server.Client().EnrollmentAsync(key, [imei], attest: false))).Json(HttpStatusCode.OK))
            .Deserialize<EnrollResponse>(LeaseClaims.Json)!;
        Assert.Equal(LeaseMode.Released, Phone.VerifiedClaims(answer.Lease, answer.KeySet).Mode);
    }

    private static EnrollRequest Resigned(EnrollRequest r, ECDsa key)
    {
        var input = EnrollRequest.SigningInput(r.Imeis, r.PublicKey, r.SignedAt, r.Nonce, r.Challenge, r.EnrollmentToken);
        var signature = key.SignData(System.Text.Encoding.UTF8.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return r with { Signature = Base64Url.EncodeToString(signature) };
    }
}

public sealed class SqliteEnrollmentAuthorizationTests(SqliteServer server) : EnrollmentAuthorizationTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresEnrollmentAuthorizationTests(PostgresServer server) : EnrollmentAuthorizationTests(server), IClassFixture<PostgresServer>;

public sealed class SqliteRealClockEnrollmentAuthorizationTests(SqliteRealClockServer server) : EnrollmentAuthorizationTests(server), IClassFixture<SqliteRealClockServer>;
