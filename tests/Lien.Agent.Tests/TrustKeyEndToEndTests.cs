using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lien.Protocol;
using Lien.Server.Lenders;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lien.Agent.Tests;

/// <summary>
/// The reference agent against a real server, with a man in the middle that the test controls: the phone follows a
/// signed rotation, refuses an unsigned answer and a key set no trusted key signed, honours a revocation, and refuses an
/// old enrollment answer replayed to it after a factory reset.
/// </summary>
public sealed class TrustKeyEndToEndTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Passes everything through, unless the test sets <see cref="Tamper"/> to rewrite the next answers.</summary>
    private sealed class Middle : DelegatingHandler
    {
        public Func<HttpResponseMessage, Task<HttpResponseMessage>>? Tamper { get; set; }
        public List<(byte[] Body, string? Signature)> Enrollments { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var response = await base.SendAsync(request, ct);
            if (request.RequestUri!.AbsolutePath.EndsWith("/enroll", StringComparison.Ordinal) && response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsByteArrayAsync(ct);
                Enrollments.Add((body, response.Headers.TryGetValues("Lien-Signature", out var v) ? v.Single() : null));
                response.Content = new ByteArrayContent(body);
            }
            return Tamper is null || request.RequestUri.AbsolutePath.EndsWith("/ack", StringComparison.Ordinal) ? response : await Tamper(response);
        }
    }

    private static async Task<HttpResponseMessage> Rewritten(HttpResponseMessage original, Func<JsonObject, JsonObject> edit, byte[]? answerKey)
    {
        var body = JsonNode.Parse(await original.Content.ReadAsStringAsync())!.AsObject();
        var bytes = JsonSerializer.SerializeToUtf8Bytes(edit(body));
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(bytes) };
        if (answerKey is not null) response.Headers.Add("Lien-Signature", AnswerSignature.SignHs256(bytes, answerKey));
        return response;
    }

    [Fact]
    public async Task Phone_FollowsASignedRotation_RefusesUnsignedAndUnvouchedKeySets_HonoursARevocation()
    {
        var (lenderId, admin, _) = await server.NewLenderAsync();
        var device = await admin.RegisterAsync();
        await admin.PlanAsync(device.Id(), server.Today.AddDays(5));
        var middle = new Middle();
        var clock = new FakeDeviceClock(server.Time.GetUtcNow(), TimeSpan.FromSeconds(5));
        var agent = new AgentRuntime(server.CreateDefaultClient(middle), new MemoryAgentStore(), clock, new FakeTimeProvider(server.Time.GetUtcNow()),
            new Random(3), [device.Str("imei")], provisioning: new AgentProvisioning(Attestation: TestAttestation.ForAgent));
        await agent.StartAsync(Ct);
        Assert.Equal(CallOutcome.Ok, (await agent.EnrollAsync(Ct)).Outcome);
        var first = agent.State.KeySet!.Keys.Single().Kid;
        Assert.Equal(first, Kid(agent.State.Lease!.Jws));

        // A signed rotation: followed at the next check-in; leases by the new key apply.
        await (await admin.PostAsJsonAsync("/v1/lender/keys/rotate", new { }, Ct)).Json(HttpStatusCode.OK);
        Assert.Equal(CallOutcome.Ok, (await agent.CheckInAsync(Ct)).Outcome);
        Assert.Equal(2, agent.State.KeySet!.Version);
        var second = agent.State.KeySet.Keys.Single(k => k.Kid != first).Kid;

        // An answer stripped of its signature: refused whole, counted.
        middle.Tamper = r => Rewritten(r, b => b, answerKey: null);
        Assert.Equal(CallOutcome.Refused, (await agent.CheckInAsync(Ct)).Outcome);
        Assert.Equal(1, agent.State.RefusedFor(RefusalReason.AnswerSignature));

        // A correctly MAC'd answer (the middle holds the answer key) carrying a key set no trusted key signed, then one
        // naming the trusted key with another key's signature: both refused; the trust stays at version 2.
        var answerKey = Convert.FromBase64String(agent.State.Enrollment!.AnswerKey);
        using var attacker = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var strangers = KeySetStatement.Sign(new KeySetClaims(KeySetClaims.Type, lenderId, 99, 0, [TrustKey.From("lk-attacker", attacker)], [first, second]),
            [("lk-attacker", attacker)]);
        var wronglySigned = KeySetStatement.Sign(new KeySetClaims(KeySetClaims.Type, lenderId, 99, 0, [TrustKey.From(second, attacker)], [first]), [(second, attacker)]);
        foreach (var (statement, count) in new[] { (strangers, 1), (wronglySigned, 2) })
        {
            middle.Tamper = r => Rewritten(r, b =>
            {
                b["keySet"] = JsonSerializer.SerializeToNode(statement, LeaseClaims.Json);
                return b;
            }, answerKey);
            Assert.Equal(CallOutcome.Ok, (await agent.CheckInAsync(Ct)).Outcome);
            Assert.Equal(count, agent.State.RefusedFor(RefusalReason.KeySet));
            Assert.Equal(2, agent.State.KeySet!.Version);
        }
        middle.Tamper = null;

        // The first key revoked: the phone's lease (signed by it) comes again signed by the second, and the phone follows.
        var heldSeq = agent.State.AppliedSeq;
        await (await admin.PostAsync($"/v1/lender/keys/{first}/revoke", null, Ct)).Json(HttpStatusCode.OK);
        Assert.Equal(CallOutcome.Ok, (await agent.CheckInAsync(Ct)).Outcome);
        Assert.Equal([second], agent.State.KeySet!.Keys.Select(k => k.Kid));
        Assert.Equal([first], agent.State.KeySet.Revoked);
        Assert.Equal(heldSeq + 1, agent.State.AppliedSeq);
        Assert.Equal(second, Kid(agent.State.Lease!.Jws));

        // Whoever still holds the revoked key can sign a lease; the phone refuses it.
        var leaked = await LeaseSignedByAsync(first, agent.State.Lease.Claims with { Seq = heldSeq + 5, Mode = LeaseMode.Released, UnlockedUntil = null });
        var effects = await agent.DispatchAsync(new LeaseReceived(leaked, ((IDeviceClock)clock).Now), Ct);
        Assert.Contains(effects, e => e is LeaseRefused { Reason: RefusalReason.RevokedKey });
        Assert.Equal(heldSeq + 1, agent.State.AppliedSeq);
        Assert.Equal(0, agent.State.RefusedFor(RefusalReason.AnswerNonce));
    }

    [Fact]
    public async Task ResetPhone_OldEnrollmentAnswerReplayed_RefusedForItsNonceThenTheRealAnswerTaken()
    {
        var (_, admin, _) = await server.NewLenderAsync();
        var device = await admin.RegisterAsync();
        await admin.PlanAsync(device.Id(), server.Today.AddDays(-10), count: 1, backdated: true); // Locked
        await server.WalkUntilLockedAsync(device.Id());
        var middle = new Middle();
        var http = server.CreateDefaultClient(middle);
        AgentRuntime Phone() => new(http, new MemoryAgentStore(), new FakeDeviceClock(server.Time.GetUtcNow(), TimeSpan.FromSeconds(5)),
            new FakeTimeProvider(server.Time.GetUtcNow()), new Random(4), [device.Str("imei")], provisioning: new AgentProvisioning(Attestation: TestAttestation.ForAgent));
        var before = Phone();
        await before.StartAsync(Ct);
        Assert.Equal(CallOutcome.Ok, (await before.EnrollAsync(Ct)).Outcome);
        var (recorded, signature) = middle.Enrollments.Single();

        // Factory reset: a fresh agent with a new key; the middle answers its enrollment with the recorded answer.
        var reset = Phone();
        await reset.StartAsync(Ct);
        middle.Tamper = answer =>
        {
            if (!answer.RequestMessage!.RequestUri!.AbsolutePath.EndsWith("/enroll", StringComparison.Ordinal)) return Task.FromResult(answer); // the challenge
            var replay = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(recorded) };
            replay.Headers.Add("Lien-Signature", signature);
            return Task.FromResult(replay);
        };
        Assert.Equal(CallOutcome.Refused, (await reset.EnrollAsync(Ct)).Outcome);
        Assert.Equal(1, reset.State.RefusedFor(RefusalReason.AnswerNonce));
        Assert.Null(reset.State.Enrollment);

        middle.Tamper = null;
        Assert.Equal(CallOutcome.Ok, (await reset.EnrollAsync(Ct)).Outcome);
        Assert.True(reset.State.Locked);
    }

    [Fact]
    public async Task Enroll_PinnedByTheProvisioningCode_OnlyTheLendersOwnKeySetIsTaken()
    {
        var (lenderId, admin, _) = await server.NewLenderAsync();
        var device = await admin.RegisterAsync();
        var keys = (await server.CreateClient().GetFromJsonAsync<JsonElement>($"/v1/lenders/{lenderId}/keys", Ct)).GetProperty("keys")
            .Deserialize<List<TrustKey>>(LeaseClaims.Json)!;
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        AgentRuntime Phone(string pin) => new(server.CreateClient(), new MemoryAgentStore(), new FakeDeviceClock(server.Time.GetUtcNow(), TimeSpan.FromSeconds(5)),
            new FakeTimeProvider(server.Time.GetUtcNow()), new Random(5), [device.Str("imei")], provisioning: new AgentProvisioning(LenderKeyThumbprint: pin, Attestation: TestAttestation.ForAgent));

        var wrong = Phone(TrustKey.From("lk-elsewhere", other).Thumbprint());
        await wrong.StartAsync(Ct);
        Assert.Equal(CallOutcome.Refused, (await wrong.EnrollAsync(Ct)).Outcome);
        Assert.Equal(1, wrong.State.RefusedFor(RefusalReason.KeySet));

        var right = Phone(keys.Single().Thumbprint());
        await right.StartAsync(Ct);
        Assert.Equal(CallOutcome.Ok, (await right.EnrollAsync(Ct)).Outcome);
        Assert.Equal(keys.Single().Kid, right.State.KeySet!.Keys.Single().Kid);
    }

    private static string Kid(string jws) =>
        JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(jws.Split('.')[0])).RootElement.GetProperty("kid").GetString()!;

    private async Task<string> LeaseSignedByAsync(string kid, LeaseClaims claims)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var key = await scope.ServiceProvider.GetRequiredService<LienDb>().LenderKeys.FirstAsync(k => k.Kid == kid, Ct);
        var ecdsa = server.Services.GetRequiredService<SigningKeys>().Open(key);
        lock (ecdsa) return Jws.Sign(JsonSerializer.SerializeToUtf8Bytes(claims, LeaseClaims.Json), ecdsa, kid, LeaseClaims.MediaType);
    }
}
