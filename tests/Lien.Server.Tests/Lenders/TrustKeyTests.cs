using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Lenders;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Lien.Server.Tests.Lenders;

/// <summary>
/// The lender's trust keys as devices and auditors see them (docs/PROTOCOL.md §1-§3): the JWK Set and the key-set
/// statement, rotation and revocation, and the signed enrollment and check-in answers — each checked with an independent
/// JOSE implementation (Microsoft.IdentityModel), not only with Lien.Protocol's own code.
/// </summary>
public abstract class TrustKeyTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    private static TokenValidationParameters Parameters(IEnumerable<SecurityKey> keys, string alg) => new()
    {
        IssuerSigningKeys = keys,
        ValidAlgorithms = [alg],
        ValidateIssuer = false,
        ValidateAudience = false,
        ValidateLifetime = false,
        RequireExpirationTime = false,
        RequireSignedTokens = true,
    };

    // What a JOSE library makes of a JWS: valid or not, by its own reading of RFC 7515.
    private static async Task<bool> JoseVerifiesAsync(string compact, IEnumerable<SecurityKey> keys, string alg = "ES256") =>
        (await new JsonWebTokenHandler().ValidateTokenAsync(compact, Parameters(keys, alg))).IsValid;

    private async Task<JsonWebKeySet> JwkSetAsync(Guid lenderId)
    {
        var r = await Server.Client().GetAsync($"/v1/lenders/{lenderId}/keys");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return new JsonWebKeySet(await r.Content.ReadAsStringAsync());
    }

    private async Task<(KeySetStatement Statement, KeySetClaims Claims)> KeySetAsync(Guid lenderId)
    {
        var statement = (await Server.Client().GetFromJsonAsync<KeySetStatement>($"/v1/lenders/{lenderId}/keyset", LeaseClaims.Json))!;
        var claims = statement.Verify(lenderId, out var problem);
        Assert.True(claims is not null, problem);
        return (statement, claims);
    }

    private static async Task<JsonElement> LeaseAsync(HttpClient admin, Guid deviceId) => await admin.ReadAsync($"/v1/devices/{deviceId}/lease");

    private static async Task<List<JsonElement>> LeasesAsync(HttpClient admin, Guid deviceId) =>
        [.. (await admin.ReadAsync($"/v1/devices/{deviceId}/leases")).EnumerateArray().Reverse()];

    [Fact]
    public async Task Keys_AfterRotation_AJwkSetWithAlgAndUseThatAJoseLibraryVerifiesLeasesAndTheKeySetWith()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        await (await a.Admin.PostAsJsonAsync("/v1/lender/keys/rotate", new { })).Json(HttpStatusCode.OK);
        await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(2));

        var set = await JwkSetAsync(a.LenderId);
        Assert.Equal(2, set.Keys.Count);
        Assert.All(set.Keys, k => Assert.Equal(("EC", "P-256", "ES256", "sig"), (k.Kty, k.Crv, k.Alg, k.Use)));
        var leases = await LeasesAsync(a.Admin, device.Id());
        Assert.Equal(2, leases.Select(l => l.Str("kid")).Distinct().Count()); // one lease by each key
        foreach (var lease in leases) Assert.True(await JoseVerifiesAsync(lease.Str("jws"), set.GetSigningKeys()));

        // The statement: version 2 (made, rotated), every key listed and each one's signature verifying, as a JOSE library reads them.
        var (statement, claims) = await KeySetAsync(a.LenderId);
        Assert.Equal((2L, "lien-keyset", a.LenderId), (claims.Version, claims.Typ, claims.LenderId));
        Assert.Equal(set.Keys.Select(k => k.Kid).Order(), claims.Keys.Select(k => k.Kid).Order());
        // The RFC 7638 thumbprint a provisioning QR code pins, as the JOSE library computes it.
        foreach (var k in claims.Keys)
            Assert.Equal(Base64UrlEncoder.Encode(set.Keys.Single(j => j.Kid == k.Kid).ComputeJwkThumbprint()), k.Thumbprint());
        Assert.Empty(claims.Revoked);
        Assert.Equal(2, statement.Signatures.Count);
        foreach (var s in statement.Signatures)
            Assert.True(await JoseVerifiesAsync($"{s.Protected}.{statement.Payload}.{s.Signature}", set.GetSigningKeys()));
        var forged = statement.Signatures[0] with { Signature = statement.Signatures[1].Signature };
        Assert.False(await JoseVerifiesAsync($"{forged.Protected}.{statement.Payload}.{forged.Signature}", set.GetSigningKeys()));
    }

    [Fact]
    public async Task RevokeKey_ActiveUnknownOrNotAdmin_RefusedAndNothingChanges()
    {
        var a = await Server.NewLenderAsync();
        var active = (await JwkSetAsync(a.LenderId)).Keys.Single().Kid;
        var other = await Server.NewLenderAsync();
        var othersKey = (await JwkSetAsync(other.LenderId)).Keys.Single().Kid;
        await (await other.Admin.PostAsJsonAsync("/v1/lender/keys/rotate", new { })).Json(HttpStatusCode.OK);

        var conflict = await (await a.Admin.PostAsync($"/v1/lender/keys/{active}/revoke", null)).Problem(HttpStatusCode.Conflict);
        Assert.Contains("rotate", conflict.Str("detail"), StringComparison.Ordinal);
        await (await a.Admin.PostAsync("/v1/lender/keys/lk0000000000000000/revoke", null)).Problem(HttpStatusCode.NotFound);
        await (await a.Admin.PostAsync($"/v1/lender/keys/{othersKey}/revoke", null)).Problem(HttpStatusCode.NotFound); // another lender's retired key
        var viewer = await a.KeyAsync("Viewer", Server);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync($"/v1/lender/keys/{active}/revoke", null)).StatusCode);

        Assert.Equal(1, (await KeySetAsync(a.LenderId)).Claims.Version);
        Assert.Equal(2, (await KeySetAsync(other.LenderId)).Claims.Version);
    }

    [Fact]
    public async Task RevokeKey_RetiredKey_LeavesTheSetAndEveryLeaseItSignedIsIssuedAgainByTheActiveKey()
    {
        var a = await Server.NewLenderAsync();
        var locked = await a.Admin.RegisterAsync();
        await a.Admin.PlanAsync(locked.Id(), Server.Today.AddDays(2));
        await Server.WalkUntilLockedAsync(locked.Id()); // past due and grace, warned: Locked
        var free = await a.Admin.RegisterAsync(); // no plan: an Unlocked lease without deadline
        using var phoneKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await Server.Client().EnrollAsync(phoneKey, locked.Str("imei"));
        var old = (await JwkSetAsync(a.LenderId)).Keys.Single().Kid;
        await (await a.Admin.PostAsJsonAsync("/v1/lender/keys/rotate", new { })).Json(HttpStatusCode.OK);
        var signedAfter = await a.Admin.RegisterAsync(); // its lease is by the new key already
        var before = await LeaseAsync(a.Admin, locked.Id());
        Assert.Equal("Locked", before.Str("mode"));

        var view = await (await a.Admin.PostAsync($"/v1/lender/keys/{old}/revoke", null)).Json(HttpStatusCode.OK);

        var set = await JwkSetAsync(a.LenderId);
        var active = set.Keys.Single().Kid;
        Assert.NotEqual(old, active);
        Assert.Equal([active], view.GetProperty("trustKeys").EnumerateArray().Select(k => k.Str("kid")));
        var (statement, claims) = await KeySetAsync(a.LenderId);
        Assert.Equal(3, claims.Version);
        Assert.Equal([old], claims.Revoked);
        // Signed by the active key and, a last time, by the key it revokes (so a device that missed the rotation can follow).
        Assert.Equal(2, statement.Signatures.Count);
        foreach (var (device, mode) in new[] { (locked, "Locked"), (free, "Unlocked") })
        {
            var leases = await LeasesAsync(a.Admin, device.Id());
            var (previous, current) = (leases[^2], leases[^1]);
            Assert.Equal((old, active), (previous.Str("kid"), current.Str("kid")));
            Assert.Equal(previous.Long("seq") + 1, current.Long("seq"));
            Assert.Equal(mode, current.Str("mode"));
            Assert.Equal(previous.GetProperty("unlockedUntil").ToString(), current.GetProperty("unlockedUntil").ToString());
            Assert.True(await JoseVerifiesAsync(current.Str("jws"), set.GetSigningKeys()));
            Assert.False(await JoseVerifiesAsync(previous.Str("jws"), set.GetSigningKeys()));
        }
        Assert.Single(await LeasesAsync(a.Admin, signedAfter.Id()));
        var audit = (await a.Admin.ReadAsync("/v1/audit?limit=500")).EnumerateArray().ToList();
        var revoked = Assert.Single(audit, e => e.Str("action") == "lender.key-revoked");
        Assert.Equal($"key:{old}", revoked.Str("subject"));
        // The chain head, revocation included, is signed again at once by the active key: a checkpoint that still counts.
        var checkpoint = (await a.Admin.ReadAsync("/v1/audit/checkpoints")).EnumerateArray().First();
        Assert.True(checkpoint.Long("seq") >= revoked.Long("seq"));
        Assert.True(await JoseVerifiesAsync(checkpoint.Str("jws"), set.GetSigningKeys()));
        var chain = await a.Admin.ReadAsync("/v1/audit/verify");
        Assert.True(chain.GetProperty("intact").GetBoolean());
        Assert.Equal(checkpoint.Long("seq"), chain.GetProperty("checkpoint").Long("seq"));

        // Revoking it again changes nothing: no version, no lease.
        await (await a.Admin.PostAsync($"/v1/lender/keys/{old}/revoke", null)).Json(HttpStatusCode.OK);
        Assert.Equal(3, (await KeySetAsync(a.LenderId)).Claims.Version);
        Assert.Equal(before.Long("seq") + 1, (await LeaseAsync(a.Admin, locked.Id())).Long("seq"));
    }

    [Fact]
    public async Task EnrollThenCheckIn_AnswersSignedOverTheirBodiesWithTheNonceEchoed()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var phone = Server.Client();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var nonce = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

        var enrolled = await phone.PostAsJsonAsync("/v1/device/enroll", await phone.EnrollmentAsync(key, [device.Str("imei")], nonce: nonce));
        Assert.Equal(HttpStatusCode.OK, enrolled.StatusCode);
        var body = await enrolled.Content.ReadAsByteArrayAsync();
        var answer = JsonSerializer.Deserialize<EnrollResponse>(body, LeaseClaims.Json)!;
        Assert.Equal(nonce, answer.Nonce);
        var header = Assert.Single(enrolled.Headers.GetValues("Lien-Signature"));
        var set = await JwkSetAsync(a.LenderId);
        Assert.True(await JoseVerifiesAsync(Attached(header, body), set.GetSigningKeys()));
        body[^2] ^= 1;
        Assert.False(await JoseVerifiesAsync(Attached(header, body), set.GetSigningKeys()));
        var answerKey = answer.AnswerKey!.Open(key, answer.DeviceId);
        Assert.Equal(32, answerKey.Length);

        var checkInNonce = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/device/checkin")
        { Content = JsonContent.Create(new CheckInRequest(answer.Seq, Nonce: checkInNonce)) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Device", answer.DeviceToken);
        var checkedIn = await phone.SendAsync(request);
        var checkInBody = await checkedIn.Content.ReadAsByteArrayAsync();
        var checkIn = JsonSerializer.Deserialize<CheckInResponse>(checkInBody, LeaseClaims.Json)!;
        Assert.Equal(checkInNonce, checkIn.Nonce);
        Assert.Equal(answer.KeySet, checkIn.KeySet with { Signatures = answer.KeySet.Signatures }); // the same statement
        var signature = Assert.Single(checkedIn.Headers.GetValues("Lien-Signature"));
        Assert.True(await JoseVerifiesAsync(Attached(signature, checkInBody), [new SymmetricSecurityKey(answerKey)], "HS256"));
        Assert.False(await JoseVerifiesAsync(Attached(signature, checkInBody), [new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32))], "HS256"));

        // A new enrollment of the same phone (reset) gets a new answer key: the old one no longer signs its answers.
        using var resetKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var again = await phone.EnrollAsync(resetKey, device.Str("imei"));
        Assert.NotEqual(Convert.ToBase64String(answerKey), Convert.ToBase64String(again.AnswerKey!.Open(resetKey, again.DeviceId)));
        Assert.ThrowsAny<CryptographicException>(() => again.AnswerKey!.Open(key, again.DeviceId));
    }

    [Fact]
    public async Task PublishMissing_LenderFromBeforeKeySets_GetsItsFirstAndItsPhonesEnroll()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        await Server.WithDbAsync(db => db.Lenders.Where(l => l.Id == a.LenderId).ExecuteUpdateAsync(u => u.SetProperty(l => l.KeySetJson, "")));

        await Server.Services.GetRequiredService<SigningKeys>().PublishMissingAsync(Server.Services);

        var (_, claims) = await KeySetAsync(a.LenderId);
        Assert.Equal((await JwkSetAsync(a.LenderId)).Keys.Single().Kid, claims.Keys.Single().Kid);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var enrolled = await Server.Client().EnrollAsync(key, device.Str("imei"));
        Assert.Equal(claims.Keys.Single().Kid, Phone.VerifiedKeys(enrolled.KeySet).Single().Kid);
    }

    public static TheoryData<string> BadNonces => ["", "not base64url!", "AAAA==", Base64Url.EncodeToString(new byte[65])];

    [Theory]
    [MemberData(nameof(BadNonces))]
    public async Task EnrollAndCheckIn_BadNonce_ValidationProblem(string nonce)
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var enroll = await Server.Client().PostAsJsonAsync("/v1/device/enroll", await Server.Client().EnrollmentAsync(key, [device.Str("imei")], nonce: nonce));
        Assert.True((await enroll.Problem(HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("nonce", out _));

        var enrolled = await Server.Client().EnrollAsync(key, device.Str("imei"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/device/checkin") { Content = JsonContent.Create(new CheckInRequest(1, Nonce: nonce)) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Device", enrolled.DeviceToken);
        var checkIn = await Server.Client().SendAsync(request);
        Assert.True((await checkIn.Problem(HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("nonce", out _));
    }

    // RFC 7515 Appendix F: the detached payload put back between the two dots, base64url.
    private static string Attached(string detached, byte[] body)
    {
        var at = detached.IndexOf("..", StringComparison.Ordinal);
        return $"{detached[..at]}.{Base64Url.EncodeToString(body)}.{detached[(at + 2)..]}";
    }
}

public sealed class SqliteTrustKeyTests(SqliteServer server) : TrustKeyTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresTrustKeyTests(PostgresServer server) : TrustKeyTests(server), IClassFixture<PostgresServer>;
