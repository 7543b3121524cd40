using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Lien.Server.Audit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lien.Server.Tests.Audit;

/// <summary>
/// The audit trail against someone who can write the database: on the system clock (sub-millisecond instants), an
/// untouched chain verifies; an edit of any field, a deletion, an insertion, the newest events deleted after a signed
/// checkpoint, and a chain re-hashed without the key are each found and located. On SQLite and PostgreSQL.
/// </summary>
public abstract class AuditChainTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    // A lender with a short story: registration, a plan, three payments (about a dozen events).
    private async Task<(Tenant Tenant, long Events)> StoryAsync()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var plan = await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(3));
        for (var i = 0; i < 3; i++) await (await a.Admin.PayAsync(plan.Id(), 1_00 + i)).Json(HttpStatusCode.Created);
        var events = (await a.Admin.ReadAsync("/v1/audit")).GetArrayLength();
        return (a, events);
    }

    private static Task<JsonElement> VerifyAsync(Tenant a) => a.Admin.ReadAsync("/v1/audit/verify");

    private static void AssertBrokenAt(JsonElement check, long seq)
    {
        Assert.False(check.GetProperty("intact").GetBoolean(), check.GetRawText());
        Assert.Equal(seq, check.Long("brokenAt"));
        Assert.False(string.IsNullOrEmpty(check.Str("problem")));
    }

    private Task<int> EditAsync(Guid lenderId, long seq, Action<AuditEvent> edit) => Server.WithDbAsync(async db =>
    {
        var row = await db.AuditEvents.FirstAsync(e => e.LenderId == lenderId && e.Seq == seq);
        edit(row);
        return await db.SaveChangesAsync();
    });

    [Fact]
    public async Task Verify_UntouchedChainOnTheSystemClock_Intact()
    {
        var (a, events) = await StoryAsync();
        var check = await VerifyAsync(a);
        Assert.True(check.GetProperty("intact").GetBoolean(), check.GetRawText());
        Assert.Equal(events, check.Long("checked"));
        // The instants really were sub-second: the chain hashes what the database keeps, not what the clock said.
        var instants = (await a.Admin.ReadAsync("/v1/audit")).EnumerateArray().Select(e => e.GetProperty("at").GetDateTimeOffset()).ToList();
        Assert.Contains(instants, t => t.Millisecond != 0 || t.UtcTicks % TimeSpan.TicksPerSecond != 0);
    }

    public static TheoryData<string> Fields => ["actor", "action", "subject", "reason", "policy", "data", "at", "eventId", "mac", "macRemoved", "prevHash", "hash", "seq"];

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task Verify_AnyFieldOfAnEventEdited_FoundAtThatEvent(string field)
    {
        var (a, events) = await StoryAsync();
        var seq = events / 2;
        await EditAsync(a.LenderId, seq, e =>
        {
            switch (field)
            {
                case "actor": e.Actor += "x"; break;
                case "action": e.Action = "payment.reversed"; break;
                case "subject": e.Subject += "0"; break;
                case "reason": e.Reason = "edited after the fact"; break;
                case "policy": e.Policy = e.Policy is null ? "rbi-2026" : null; break;
                case "data": e.Data = "{\"amount\":999999999}"; break;
                case "at": e.At = e.At.AddMilliseconds(1); break;
                case "eventId": e.EventId = Guid.CreateVersion7(); break;
                case "mac": e.Mac = new string('0', 64); break;
                case "macRemoved": e.Mac = null; break; // passed off as an event from before MACs
                case "prevHash": e.PrevHash = new string('0', 64); break;
                case "hash": e.Hash = new string('f', 64); break;
                case "seq": e.Seq = events + 100; break;
            }
        });
        AssertBrokenAt(await VerifyAsync(a), seq);
    }

    [Fact]
    public async Task Verify_EventDeleted_FoundWhereItWas()
    {
        var (a, events) = await StoryAsync();
        var seq = events / 2;
        await Server.WithDbAsync(db => db.AuditEvents.Where(e => e.LenderId == a.LenderId && e.Seq == seq).ExecuteDeleteAsync());
        AssertBrokenAt(await VerifyAsync(a), seq);
    }

    [Fact]
    public async Task Verify_EventInsertedInTheMiddle_FoundAtTheInsertion()
    {
        var (a, events) = await StoryAsync();
        var seq = events / 2;
        await Server.WithDbAsync(async db =>
        {
            // Make room (highest first, so the unique index holds), then slip a forged event in, linked as well as an
            // outsider can: to the real previous hash, hashed with plain SHA-256 (the key is not in the database).
            for (var s = events; s >= seq; s--)
                await db.AuditEvents.Where(e => e.LenderId == a.LenderId && e.Seq == s).ExecuteUpdateAsync(u => u.SetProperty(e => e.Seq, e => e.Seq + 1));
            var prev = await db.AuditEvents.FirstAsync(e => e.LenderId == a.LenderId && e.Seq == seq - 1);
            db.AuditEvents.Add(Forged(a.LenderId, seq, prev.Hash!));
            return await db.SaveChangesAsync();
        });
        AssertBrokenAt(await VerifyAsync(a), seq);
    }

    [Fact]
    public async Task Verify_EventAppendedWithoutTheKey_FoundAtTheAppendedEvent()
    {
        var (a, events) = await StoryAsync();
        await Server.WithDbAsync(async db =>
        {
            var head = await db.AuditEvents.FirstAsync(e => e.LenderId == a.LenderId && e.Seq == events);
            db.AuditEvents.Add(Forged(a.LenderId, events + 1, head.Hash!));
            return await db.SaveChangesAsync();
        });
        AssertBrokenAt(await VerifyAsync(a), events + 1);
    }

    [Fact]
    public async Task Verify_WholeChainRehashedWithoutTheKey_FoundAtTheFirstEvent()
    {
        var (a, _) = await StoryAsync();
        await Server.WithDbAsync(async db =>
        {
            var prev = AuditChain.Genesis;
            foreach (var e in await db.AuditEvents.Where(e => e.LenderId == a.LenderId).OrderBy(e => e.Seq).ToListAsync())
            {
                if (e.Seq == 2) e.Reason = "rewritten";
                e.PrevHash = prev;
                e.Hash = prev = Sha256(e);
            }
            return await db.SaveChangesAsync();
        });
        AssertBrokenAt(await VerifyAsync(a), 1);
    }

    [Fact]
    public async Task Verify_NewestThreeDeletedAfterACheckpoint_FoundAsTruncated()
    {
        var (a, events) = await StoryAsync();
        var checkpoint = await (await a.Admin.PostAsync("/v1/audit/checkpoints", null)).Json(HttpStatusCode.Created);
        Assert.Equal(events, checkpoint.Long("seq"));
        await Server.WithDbAsync(db => db.AuditEvents.Where(e => e.LenderId == a.LenderId && e.Seq > events - 3).ExecuteDeleteAsync());

        var check = await VerifyAsync(a);
        AssertBrokenAt(check, events - 2);
        Assert.Contains("deleted", check.Str("problem"));
        Assert.Equal(events, check.GetProperty("checkpoint").Long("seq"));
    }

    [Fact]
    public async Task Verify_ForgedCheckpointRowHidingADeletion_IgnoredForTheGenuineOne()
    {
        var (a, events) = await StoryAsync();
        await (await a.Admin.PostAsync("/v1/audit/checkpoints", null)).Json(HttpStatusCode.Created);
        await Server.WithDbAsync(async db =>
        {
            await db.AuditEvents.Where(e => e.LenderId == a.LenderId && e.Seq > events - 3).ExecuteDeleteAsync();
            // A newer "checkpoint" for the truncated head, with a signature the lender's keys do not make.
            var head = await db.AuditEvents.Where(e => e.LenderId == a.LenderId && e.Seq != null).OrderByDescending(e => e.Seq).FirstAsync();
            var genuine = await db.AuditCheckpoints.FirstAsync(c => c.LenderId == a.LenderId);
            db.AuditCheckpoints.Add(new AuditCheckpoint { LenderId = a.LenderId, Seq = head.Seq!.Value + 100, Hash = head.Hash!, At = genuine.At, Jws = genuine.Jws });
            return await db.SaveChangesAsync();
        });
        var check = await VerifyAsync(a);
        AssertBrokenAt(check, events - 2);
        Assert.Equal(events, check.GetProperty("checkpoint").Long("seq"));
    }

    [Fact]
    public async Task Checkpointer_HeadMoved_SignsItOnceWithTheLendersKey()
    {
        var (a, events) = await StoryAsync();
        var checkpointer = Server.Services.GetRequiredService<AuditCheckpointer>();
        var first = await checkpointer.CheckpointAsync(a.LenderId, TestContext.Current.CancellationToken);
        Assert.NotNull(first);
        Assert.Null(await checkpointer.CheckpointAsync(a.LenderId, TestContext.Current.CancellationToken)); // nothing new to sign
        var keys = (await Server.Client().GetAsync($"/v1/lenders/{a.LenderId}/keys")).Content;
        var trust = JsonSerializer.Deserialize<JsonElement>(await keys.ReadAsStringAsync(TestContext.Current.CancellationToken)).GetProperty("keys")
            .Deserialize<List<Protocol.TrustKey>>(Protocol.LeaseClaims.Json)!;
        var claims = Protocol.AuditCheckpointClaims.Verify(first.Jws, trust);
        Assert.NotNull(claims);
        Assert.Equal((a.LenderId, events, first.Hash), (claims.LenderId, claims.Seq, claims.Hash));
        var listed = (await a.Admin.ReadAsync("/v1/audit/checkpoints")).EnumerateArray().ToList();
        Assert.Equal(events, Assert.Single(listed).Long("seq"));
    }

    private static AuditEvent Forged(Guid lenderId, long seq, string prevHash)
    {
        var e = new AuditEvent
        {
            LenderId = lenderId, Seq = seq, At = DateTimeOffset.UnixEpoch.AddYears(56), Actor = "api-key:akforged", Action = "payment.recorded",
            Subject = "payment:" + Guid.NewGuid(), PrevHash = prevHash, Hash = "",
        };
        e.Hash = Sha256(e);
        return e;
    }

    // What someone without the master key can compute: the same canonical bytes, hashed with SHA-256 instead of the keyed HMAC.
    private static string Sha256(AuditEvent e) => Convert.ToHexStringLower(SHA256.HashData(AuditChain.Canonical(e)));
}

public sealed class SqliteAuditChainTests(SqliteRealClockServer server) : AuditChainTests(server), IClassFixture<SqliteRealClockServer>;

public sealed class PostgresAuditChainTests(PostgresRealClockServer server) : AuditChainTests(server), IClassFixture<PostgresRealClockServer>;
