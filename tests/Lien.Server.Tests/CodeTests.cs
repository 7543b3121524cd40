using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CsCheck;
using Lien.Protocol;
using Lien.Protocol.Codes;
using Lien.Server.Codes;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lien.Server.Tests;

/// <summary>Offline unlock codes issued by the server and decoded as the device would, with the secret it got at enrollment.</summary>
public abstract class CodeTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    private sealed record Enrolled(Tenant Lender, JsonElement Device, JsonElement Plan, TokenDevice TokenDevice, OfflineCodes Codes);

    private async Task<Enrolled> EnrolledDeviceAsync(int firstDueInDays = 10)
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(firstDueInDays), count: 3);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var enrolled = await Server.Client().EnrollAsync(key, device.Str("imei"));
        var codes = enrolled.Codes!;
        var secret = codes.Secret.Open(key, enrolled.DeviceId);
        Assert.Equal(16, secret.Length);
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.ThrowsAny<CryptographicException>(() => codes.Secret.Open(stranger, enrolled.DeviceId)); // sealed to the device's key only
        return new Enrolled(a, device, plan, new TokenDevice(SipHashKey.FromBytes(secret), codes.StartingCode, codes.RestrictedDigitSet), codes);
    }

    private static Task<HttpResponseMessage> IssueAsync(HttpClient c, Guid device, string type, int? days = null, string? approval = null,
        string reason = "borrower paid by M-Pesa, no data") =>
        c.PostAsJsonAsync($"/v1/devices/{device}/codes", new { type, days, reason, approval });

    private static Task<HttpResponseMessage> ApproveAsync(HttpClient admin, Guid device, string type = "DisablePayg") =>
        admin.PostAsJsonAsync($"/v1/devices/{device}/codes/approvals", new { type, reason = "settled in court; the borrower showed the order" });

    private static async Task<string> ApprovalAsync(HttpClient admin, Guid device) => (await (await ApproveAsync(admin, device)).Json(HttpStatusCode.OK)).Str("approval");

    private static async Task<List<JsonElement>> AuditAsync(Tenant a) => (await a.Admin.ReadAsync("/v1/audit")).EnumerateArray().ToList();

    private Task<int> CodeCountAsync(Guid device) => Server.WithDbAsync(db => db.Devices.Where(d => d.Id == device).Select(d => d.CodeCount).SingleAsync());

    [Fact]
    public async Task Issue_AddTimeAfterPayment_DeviceDecodesDaysUntilNextLockInstant()
    {
        var e = await EnrolledDeviceAsync(firstDueInDays: 10);
        var code = await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "AddTime")).Json(HttpStatusCode.Created);
        Assert.Equal(9, code.Str("code").Length);
        Assert.Matches("^[0-9]{3} [0-9]{3} [0-9]{3}$", code.Str("display"));
        var decoder = new TokenDecoder(e.TokenDevice, TokenDecoderState.Initial(e.Codes.Count));
        var result = decoder.Decode(code.Str("code"));
        Assert.Equal(TokenStatus.Ok, result.Status);
        Assert.Equal(TokenType.AddTime, result.Type);
        Assert.Equal(14, result.Value); // ten days to the due date, the rest of today, three days of grace
        Assert.Equal(TokenStatus.AlreadyUsed, decoder.Decode(code.Str("code")).Status);

        var audit = (await e.Lender.Admin.ReadAsync("/v1/audit")).EnumerateArray().Last(x => x.Str("action") == "code.issued");
        Assert.Equal("borrower paid by M-Pesa, no data", audit.Str("reason"));
        Assert.Contains("\"value\":14", audit.Str("data"));
        Assert.Single((await e.Lender.Admin.ReadAsync($"/v1/devices/{e.Device.Id()}/codes")).EnumerateArray());
    }

    [Fact]
    public async Task Issue_ConcurrentCodes_DistinctCountsEachAcceptedOnce()
    {
        var e = await EnrolledDeviceAsync();
        var clients = Enumerable.Range(0, 6).Select(_ => Server.Client(e.Lender.Token)).ToList();
        var responses = await Task.WhenAll(clients.Select((c, i) => c.PostAsJsonAsync($"/v1/devices/{e.Device.Id()}/codes", new { type = "AddTime", days = i + 1, reason = "call centre" })));
        var codes = await Task.WhenAll(responses.Select(r => r.Json(HttpStatusCode.Created)));
        Assert.Equal(6, codes.Select(c => c.GetProperty("count").GetInt32()).Distinct().Count());
        var decoder = new TokenDecoder(e.TokenDevice, TokenDecoderState.Initial(e.Codes.Count));
        var credited = 0;
        foreach (var c in codes.Reverse())
        {
            var r = decoder.Decode(c.Str("code"));
            Assert.Equal(TokenStatus.Ok, r.Status);
            credited += r.Value!.Value;
        }
        Assert.Equal(Enumerable.Range(1, 6).Sum(), credited);
    }

    [Fact]
    public async Task Issue_ServerIssuedCodesInAnyOrderWithLossesAndRepeats_NeverAcceptedTwiceNeverMoreDays()
    {
        var e = await EnrolledDeviceAsync();
        var issued = new List<(string Code, int Days)>();
        foreach (var days in new[] { 3, 7, 1, 30, 2, 14, 5, 9 })
            issued.Add(((await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "AddTime", days)).Json(HttpStatusCode.Created)).Str("code"), days));
        var totalIssued = issued.Sum(i => i.Days);

        Gen.Int[0, issued.Count - 1].Array[0, 30].Sample(order =>
        {
            var decoder = new TokenDecoder(e.TokenDevice, TokenDecoderState.Initial(e.Codes.Count));
            var accepted = new HashSet<string>();
            var credited = 0;
            foreach (var i in order)
            {
                var r = decoder.Decode(issued[i].Code);
                if (r.Status != TokenStatus.Ok) continue;
                if (!accepted.Add(issued[i].Code)) return false; // the same code twice
                credited += r.Value!.Value;
            }
            return credited <= totalIssued && credited == accepted.Sum(c => issued.First(x => x.Code == c).Days);
        });
    }

    [Fact]
    public async Task Issue_BadRequests_ClearProblems()
    {
        var e = await EnrolledDeviceAsync();
        await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "Teleport")).Problem(HttpStatusCode.BadRequest);
        await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "SetTime")).Problem(HttpStatusCode.BadRequest);
        await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "AddTime", 2000)).Problem(HttpStatusCode.BadRequest);
        await (await e.Lender.Admin.PostAsJsonAsync($"/v1/devices/{e.Device.Id()}/codes", new { type = "AddTime" })).Problem(HttpStatusCode.BadRequest);

        var other = await Server.NewLenderAsync();
        await (await IssueAsync(other.Admin, e.Device.Id(), "AddTime", 3)).Problem(HttpStatusCode.NotFound);
        await (await other.Admin.GetAsync($"/v1/devices/{e.Device.Id()}/codes")).Problem(HttpStatusCode.NotFound);
        var notEnrolled = await e.Lender.Admin.RegisterAsync();
        await (await IssueAsync(e.Lender.Admin, notEnrolled.Id(), "AddTime", 3)).Problem(HttpStatusCode.Conflict);
        var viewer = await e.Lender.KeyAsync("Viewer", Server);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync($"/v1/devices/{e.Device.Id()}/codes", new { type = "AddTime", days = 1, reason = "x" })).StatusCode);
    }

    [Fact]
    public async Task Issue_DisablePaygAndSetTime_DecodeAsSuch()
    {
        var e = await EnrolledDeviceAsync();
        var set = await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "SetTime", 0)).Json(HttpStatusCode.Created);
        await (await e.Lender.Admin.PayAsync(e.Plan.Id(), 300_00)).Json(HttpStatusCode.Created); // paid off: DisablePayg needs no approval
        var release = await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "DisablePayg")).Json(HttpStatusCode.Created);
        var decoder = new TokenDecoder(e.TokenDevice, TokenDecoderState.Initial(e.Codes.Count));
        Assert.Equal((TokenStatus.Ok, TokenType.SetTime, 0), (decoder.Decode(set.Str("code")) is var s ? (s.Status, s.Type!.Value, s.Value!.Value) : default));
        Assert.Equal(TokenType.DisablePayg, decoder.Decode(release.Str("code")).Type);
    }

    [Fact]
    public async Task List_ViewerAndAdmin_SeeEverythingButTheDigits()
    {
        var e = await EnrolledDeviceAsync();
        var issued = await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "AddTime", 3)).Json(HttpStatusCode.Created);
        var digits = issued.Str("code");
        Assert.Matches("^[0-9]{9}$", digits); // shown once, to the issuer

        var viewer = await e.Lender.KeyAsync("Viewer", Server);
        foreach (var reader in new[] { viewer, e.Lender.Admin })
        {
            var response = await reader.GetAsync($"/v1/devices/{e.Device.Id()}/codes", TestContext.Current.CancellationToken);
            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            var listed = Assert.Single((await response.Json(HttpStatusCode.OK)).EnumerateArray());
            Assert.DoesNotContain(digits, text);
            Assert.DoesNotContain(digits[..3] + " " + digits[3..6], text);
            Assert.False(listed.TryGetProperty("code", out _));
            Assert.False(listed.TryGetProperty("display", out _));
            Assert.Equal("AddTime", listed.Str("type"));
            Assert.Equal(issued.GetProperty("count").GetInt32(), listed.GetProperty("count").GetInt32());
            Assert.Equal(3, listed.GetProperty("value").GetInt32());
            Assert.Equal(3, listed.GetProperty("days").GetDouble());
            Assert.Equal(issued.Str("actor"), listed.Str("actor"));
            Assert.Equal("borrower paid by M-Pesa, no data", listed.Str("reason"));
            Assert.Equal(issued.GetProperty("issuedAt").GetDateTimeOffset(), listed.GetProperty("issuedAt").GetDateTimeOffset());
        }
    }

    [Fact]
    public async Task Issue_Digits_KeptSealedNotInClear()
    {
        var e = await EnrolledDeviceAsync();
        var digits = (await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "AddTime", 3)).Json(HttpStatusCode.Created)).Str("code");
        var stored = await Server.WithDbAsync(db => db.IssuedCodes.Where(c => c.DeviceId == e.Device.Id()).Select(c => c.Code).SingleAsync());
        Assert.DoesNotContain(digits, stored);
        var box = Server.Services.GetRequiredService<SecretBox>();
        Assert.Equal(digits, Encoding.ASCII.GetString(box.Open(Convert.FromBase64String(stored), CodeIssuer.DigitsPurpose)));
    }

    [Fact]
    public async Task SealClearCodes_CodesAnEarlierVersionKeptInClear_SealedOnce()
    {
        var e = await EnrolledDeviceAsync();
        var digits = (await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "AddTime", 3)).Json(HttpStatusCode.Created)).Str("code");
        await Server.WithDbAsync(db => db.IssuedCodes.Where(c => c.DeviceId == e.Device.Id())
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.Code, digits), TestContext.Current.CancellationToken)); // as an earlier version kept it

        await using var scope = Server.Services.CreateAsyncScope();
        Assert.True(await scope.ServiceProvider.GetRequiredService<CodeIssuer>().SealClearCodesAsync(TestContext.Current.CancellationToken) >= 1);
        var stored = await Server.WithDbAsync(db => db.IssuedCodes.Where(c => c.DeviceId == e.Device.Id()).Select(c => c.Code).SingleAsync());
        Assert.DoesNotContain(digits, stored);
        var box = Server.Services.GetRequiredService<SecretBox>();
        Assert.Equal(digits, Encoding.ASCII.GetString(box.Open(Convert.FromBase64String(stored), CodeIssuer.DigitsPurpose)));
        Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<CodeIssuer>().SealClearCodesAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task DisablePayg_PlanPaidOff_IssuedWithoutApproval()
    {
        var e = await EnrolledDeviceAsync();
        await (await e.Lender.Admin.PayAsync(e.Plan.Id(), 300_00)).Json(HttpStatusCode.Created);
        var operatorKey = await e.Lender.KeyAsync("Operator", Server);
        var release = await (await IssueAsync(operatorKey, e.Device.Id(), "DisablePayg")).Json(HttpStatusCode.Created);
        var decoder = new TokenDecoder(e.TokenDevice, TokenDecoderState.Initial(e.Codes.Count));
        Assert.Equal(TokenType.DisablePayg, decoder.Decode(release.Str("code")).Type);
        Assert.Equal(JsonValueKind.Null, release.GetProperty("approvedBy").ValueKind);
    }

    [Fact]
    public async Task DisablePayg_UnpaidWithoutApproval_ConflictNothingIssuedNothingAudited()
    {
        var e = await EnrolledDeviceAsync();
        var audited = (await AuditAsync(e.Lender)).Count;

        var problem = await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "DisablePayg")).Problem(HttpStatusCode.Conflict);
        Assert.Contains("paid off", problem.Str("detail"));
        Assert.Contains("/codes/approvals", problem.Str("detail"));
        Assert.Empty((await e.Lender.Admin.ReadAsync($"/v1/devices/{e.Device.Id()}/codes")).EnumerateArray());
        Assert.Equal(e.Codes.Count, await CodeCountAsync(e.Device.Id()));
        Assert.Equal(audited, (await AuditAsync(e.Lender)).Count);
        // Partly paid is not paid off.
        await (await e.Lender.Admin.PayAsync(e.Plan.Id(), 200_00)).Json(HttpStatusCode.Created);
        await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "DisablePayg")).Problem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task DisablePayg_ApprovedByAnotherAdminKey_IssuedOnceAndBothAudited()
    {
        var e = await EnrolledDeviceAsync();
        var approver = await e.Lender.KeyAsync("Admin", Server);
        var operatorKey = await e.Lender.KeyAsync("Operator", Server);

        var granted = await (await ApproveAsync(approver, e.Device.Id())).Json(HttpStatusCode.OK);
        Assert.Equal(e.Device.Id(), granted.GetProperty("deviceId").GetGuid());
        Assert.Equal("DisablePayg", granted.Str("type"));
        Assert.Equal(Server.Time.GetUtcNow().AddMinutes(15).ToUnixTimeSeconds(), granted.GetProperty("expiresAt").GetDateTimeOffset().ToUnixTimeSeconds());
        var approvedBy = granted.Str("approvedBy");
        Assert.Equal($"api-key:{KeyId(approver)}", approvedBy);

        var release = await (await IssueAsync(operatorKey, e.Device.Id(), "DisablePayg", approval: granted.Str("approval"))).Json(HttpStatusCode.Created);
        Assert.Equal(approvedBy, release.Str("approvedBy"));
        var decoder = new TokenDecoder(e.TokenDevice, TokenDecoderState.Initial(e.Codes.Count));
        Assert.Equal(TokenType.DisablePayg, decoder.Decode(release.Str("code")).Type);

        var audit = await AuditAsync(e.Lender);
        var approval = Assert.Single(audit, x => x.Str("action") == "code.approval-granted");
        Assert.Equal(approvedBy, approval.Str("actor"));
        Assert.Equal($"device:{e.Device.Id()}", approval.Str("subject"));
        Assert.Equal("settled in court; the borrower showed the order", approval.Str("reason"));
        var issued = Assert.Single(audit, x => x.Str("action") == "code.issued");
        Assert.Equal($"api-key:{KeyId(operatorKey)}", issued.Str("actor"));
        Assert.Contains(approvedBy, issued.Str("data"));

        // One approval, one code.
        var again = await (await IssueAsync(operatorKey, e.Device.Id(), "DisablePayg", approval: granted.Str("approval"))).Problem(HttpStatusCode.Conflict);
        Assert.Contains("has been used", again.Str("detail"));
    }

    [Fact]
    public async Task DisablePayg_ApprovalThatDoesNotHold_RefusedAndNothingIssued()
    {
        var e = await EnrolledDeviceAsync();
        var device = e.Device.Id();
        var approver = await e.Lender.KeyAsync("Admin", Server);
        var operatorKey = await e.Lender.KeyAsync("Operator", Server);
        async Task RefusedAsync(HttpClient issuer, string approval, string why) =>
            Assert.Contains(why, (await (await IssueAsync(issuer, device, "DisablePayg", approval: approval)).Problem(HttpStatusCode.Conflict)).Str("detail"));

        // Only an admin approves, and only a device of its own lender.
        Assert.Equal(HttpStatusCode.Forbidden, (await ApproveAsync(operatorKey, device)).StatusCode);
        await (await ApproveAsync((await Server.NewLenderAsync()).Admin, device)).Problem(HttpStatusCode.NotFound);
        await (await ApproveAsync(approver, device, type: "AddTime")).Problem(HttpStatusCode.BadRequest);
        // Not by the issuer's own key.
        await RefusedAsync(e.Lender.Admin, await ApprovalAsync(e.Lender.Admin, device), "another admin key");
        // Not for another device.
        var other = await e.Lender.Admin.RegisterAsync();
        await RefusedAsync(operatorKey, await ApprovalAsync(approver, other.Id()), "another device");
        // Not altered: another count, another key named, a changed MAC, or no approval at all.
        var good = await ApprovalAsync(approver, device);
        var parts = good.Split('.');
        await RefusedAsync(operatorKey, string.Join('.', parts[..3].Append($"{int.Parse(parts[3]) + 2}").Concat(parts[4..])), "not one this server granted");
        await RefusedAsync(operatorKey, string.Join('.', parts[..4].Append(KeyId(operatorKey)).Concat(parts[5..])), "not one this server granted");
        await RefusedAsync(operatorKey, good[..^1] + (good[^1] == 'A' ? 'B' : 'A'), "not one this server granted");
        await RefusedAsync(operatorKey, "let it go", "not one this server granted");
        await (await IssueAsync(operatorKey, device, "AddTime", 1, approval: good)).Problem(HttpStatusCode.BadRequest);
        // Not once its approver is no longer an admin key.
        var revoked = await e.Lender.KeyAsync("Admin", Server);
        var byRevoked = await ApprovalAsync(revoked, device);
        Assert.Equal(HttpStatusCode.NoContent, (await e.Lender.Admin.DeleteAsync($"/v1/api-keys/{KeyId(revoked)}", TestContext.Current.CancellationToken)).StatusCode);
        await RefusedAsync(operatorKey, byRevoked, "no longer an admin key");
        // Not after 15 minutes.
        Server.Time.Advance(TimeSpan.FromMinutes(15));
        await RefusedAsync(operatorKey, good, "expired");

        Assert.Empty((await e.Lender.Admin.ReadAsync($"/v1/devices/{device}/codes")).EnumerateArray());
        Assert.Equal(e.Codes.Count, await CodeCountAsync(device));
        Assert.DoesNotContain(await AuditAsync(e.Lender), x => x.Str("action") == "code.issued");
    }

    [Fact]
    public async Task Enroll_Again_FreshSecretAndStartingCodeCountCarriesOn()
    {
        var e = await EnrolledDeviceAsync();
        await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "AddTime", 3)).Json(HttpStatusCode.Created);
        Assert.Equal(2, await CodeCountAsync(e.Device.Id()));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var again = await Server.Client().EnrollAsync(key, e.Device.Str("imei"));
        var secret = again.Codes!.Secret.Open(key, again.DeviceId);

        Assert.Equal(16, secret.Length);
        Assert.NotEqual(e.TokenDevice.Key, SipHashKey.FromBytes(secret));
        Assert.NotEqual(e.Codes.StartingCode, again.Codes.StartingCode);
        Assert.InRange(again.Codes.StartingCode, 0, OpenPaygoToken.MaxStartingCode);
        Assert.Equal(2, again.Codes.Count); // never reused for the device; every count up to it is spent on the phone
        Assert.Equal(2, await CodeCountAsync(e.Device.Id()));
    }

    [Fact]
    public async Task Issue_AfterReEnrollment_ForTheNewSecretOnly_ListSaysWhichSecret()
    {
        var e = await EnrolledDeviceAsync();
        var before = await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "AddTime", 3)).Json(HttpStatusCode.Created);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var again = await Server.Client().EnrollAsync(key, e.Device.Str("imei"));
        var now = new TokenDevice(SipHashKey.FromBytes(again.Codes!.Secret.Open(key, again.DeviceId)), again.Codes.StartingCode, again.Codes.RestrictedDigitSet);

        var after = await (await IssueAsync(e.Lender.Admin, e.Device.Id(), "AddTime", 5)).Json(HttpStatusCode.Created);

        // The phone as enrolled now takes it; the old secret does not, nor does the new one take a code of the old.
        Assert.Equal(before.GetProperty("count").GetInt32() + 2, after.GetProperty("count").GetInt32());
        Assert.Equal((TokenStatus.Ok, 5), TokenDecoder.Decode(now, TokenDecoderState.Initial(again.Codes.Count), after.Str("code")).Result is var r ? (r.Status, r.Value!.Value) : default);
        Assert.Equal(TokenStatus.Invalid, TokenDecoder.Decode(e.TokenDevice, TokenDecoderState.Initial(e.Codes.Count), after.Str("code")).Result.Status);
        Assert.Equal(TokenStatus.Invalid, TokenDecoder.Decode(now, TokenDecoderState.Initial(again.Codes.Count), before.Str("code")).Result.Status);

        var listed = (await e.Lender.Admin.ReadAsync($"/v1/devices/{e.Device.Id()}/codes")).EnumerateArray().ToList();
        Assert.Equal([(5, 2, true), (3, 1, false)],
            listed.Select(c => (c.GetProperty("value").GetInt32(), c.GetProperty("secretVersion").GetInt32(), c.GetProperty("current").GetBoolean())));
        var audit = (await AuditAsync(e.Lender)).Where(x => x.Str("action") == "code.issued").Select(x => x.Str("data")).ToList();
        Assert.Contains(audit, d => d.Contains("\"secretVersion\":2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DisablePayg_ApprovalGrantedBeforeReEnrollment_Refused()
    {
        var e = await EnrolledDeviceAsync();
        var device = e.Device.Id();
        var approver = await e.Lender.KeyAsync("Admin", Server);
        var operatorKey = await e.Lender.KeyAsync("Operator", Server);
        var approval = await ApprovalAsync(approver, device); // granted for the first secret
        await Server.Client().EnrollAsync(e.Device.Str("imei")); // a fresh secret, the count where it was

        var refused = await (await IssueAsync(operatorKey, device, "DisablePayg", approval: approval)).Problem(HttpStatusCode.Conflict);
        Assert.Contains("enrolled again", refused.Str("detail"));
        Assert.Equal(0, await CodeCountAsync(device));
    }

    private static string KeyId(HttpClient client) => client.DefaultRequestHeaders.Authorization!.Parameter!.Split('_')[1];
}

public sealed class SqliteCodeTests(SqliteServer server) : CodeTests(server), IClassFixture<SqliteServer>;

public sealed class PostgresCodeTests(PostgresServer server) : CodeTests(server), IClassFixture<PostgresServer>;
