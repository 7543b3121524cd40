using System.Net;
using System.Security.Cryptography;
using Lien.Server.Audit;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lien.Server.Tests.Audit;

/// <summary>
/// The audit chain built after commit (<see cref="AuditSequencer"/>): a lender's concurrent writers all succeed and
/// their events form one gapless chain, read back at once; on PostgreSQL an event is never overtaken by one of a
/// transaction that began after its own; sequencers racing (several nodes) still make one chain; and an event written
/// into the database outside Lien is never chained, but reported. On the system clock, on SQLite and PostgreSQL.
/// </summary>
public abstract class AuditSequencerTests(LienServer server)
{
    protected LienServer Server { get; } = server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private AuditSequencer Sequencer => Server.Services.GetRequiredService<AuditSequencer>();

    private static async Task<List<long>> SeqsAsync(Tenant a) =>
        (await a.Admin.ReadAsync("/v1/audit?limit=500")).EnumerateArray().Select(e => e.Long("seq")).ToList();

    // Records events as a unit of work does, in a transaction of the caller's (committed by it) or of their own.
    private async Task RecordAsync(Guid lenderId, int count, string subject)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        var audit = scope.ServiceProvider.GetRequiredService<AuditTrail>();
        await db.InTransactionAsync(async () =>
        {
            for (var i = 0; i < count; i++) await audit.RecordAsync(lenderId, "test", AuditAction.LenderUpdated, $"{subject}-{i}", ct: Ct);
            return true;
        }, Ct);
    }

    [Fact]
    public async Task Payments_64OfOneLenderAt32Way_AllCreatedAndTheirEventsOneGaplessChainAtOnce()
    {
        var a = await Server.NewLenderAsync();
        var plans = new List<Guid>();
        for (var i = 0; i < 8; i++)
            plans.Add((await a.Admin.PlanAsync((await a.Admin.RegisterAsync()).Id(), Server.Today.AddDays(20), count: 1, each: 10_000_000_00, downPayment: 0)).Id());
        var clients = Enumerable.Range(0, 32).Select(_ => Server.Client(a.Token)).ToList();
        using var gate = new SemaphoreSlim(32);
        var statuses = await Task.WhenAll(Enumerable.Range(0, 64).Select(async i =>
        {
            await gate.WaitAsync(Ct);
            try
            {
                using var r = await clients[i % 32].PayAsync(plans[i % plans.Count], 1_00 + i);
                return r.StatusCode;
            }
            finally
            {
                gate.Release();
            }
        }));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));
        // Read straight after the last answer: every event is there, chained, numbered 1..N without a gap.
        var seqs = await SeqsAsync(a);
        var stored = await Server.WithDbAsync(db => db.AuditEvents.CountAsync(e => e.LenderId == a.LenderId));
        Assert.Equal(Enumerable.Range(1, stored).Select(i => (long)i), seqs);
        Assert.True(stored > 64, $"{stored} events");
        var check = await a.Admin.ReadAsync("/v1/audit/verify");
        Assert.True(check.GetProperty("intact").GetBoolean(), check.GetRawText());
        Assert.Equal(stored, check.Long("checked"));
    }

    [Fact]
    public async Task Sequencer_OnePassOfMoreEventsThanOneUnitWrites_OneGaplessChain()
    {
        // On SQLite a pass writes its chaining in units of AuditSequencer.UpdatesPerUnit updates: one pass here spans
        // several, of two lenders interleaved.
        var lenders = new[] { await Server.NewLenderAsync(), await Server.NewLenderAsync() };
        await Sequencer.CatchUpAsync(Ct);
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            var audit = scope.ServiceProvider.GetRequiredService<AuditTrail>();
            await db.InTransactionAsync(async () =>
            {
                for (var i = 0; i < 2 * AuditSequencer.UpdatesPerUnit + 7; i++)
                    foreach (var a in lenders) await audit.RecordAsync(a.LenderId, "test", AuditAction.LenderUpdated, $"many-{i}", ct: Ct);
                return true;
            }, Ct);
        }
        await Sequencer.CatchUpAsync(Ct);

        foreach (var a in lenders)
        {
            var events = await Server.WithDbAsync(db => db.AuditEvents.Where(e => e.LenderId == a.LenderId).OrderBy(e => e.Id).Select(e => e.Seq).ToListAsync());
            Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long?)i), events); // in id order, numbered without a gap
            Assert.True(events.Count > 2 * AuditSequencer.UpdatesPerUnit, $"{events.Count} events");
            var check = await a.Admin.ReadAsync("/v1/audit/verify");
            Assert.True(check.GetProperty("intact").GetBoolean(), check.GetRawText());
        }
    }

    [Fact]
    public async Task Sequencer_EventOfAnOpenEarlierTransaction_NeverOvertaken()
    {
        var a = await Server.NewLenderAsync();
        if (Server.Store != Store.Postgres) Assert.Skip("SQLite has one writer at a time: every committed event is settled.");
        await using var earlierScope = Server.Services.CreateAsyncScope();
        var earlierDb = earlierScope.ServiceProvider.GetRequiredService<LienDb>();
        await using (var earlier = await earlierDb.Database.BeginTransactionAsync(Ct))
        {
            // The earlier transaction writes its event first (and so holds the older transaction id), but stays open...
            await earlierScope.ServiceProvider.GetRequiredService<AuditTrail>().RecordAsync(a.LenderId, "test", AuditAction.LenderUpdated, "earlier", ct: Ct);
            await earlierDb.SaveChangesAsync(Ct);
            // ...while a later one writes and commits.
            await RecordAsync(a.LenderId, 1, "later");

            // The later event is committed but not settled: no reader is answered with it chained ahead of the earlier one.
            using (var briefly = CancellationTokenSource.CreateLinkedTokenSource(Ct))
            {
                briefly.CancelAfter(TimeSpan.FromMilliseconds(500));
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Sequencer.CatchUpAsync(briefly.Token));
            }
            Assert.Null(await Server.WithDbAsync(db => db.AuditEvents.Where(e => e.LenderId == a.LenderId && e.Subject == "later-0").Select(e => e.Seq).SingleAsync()));
            await earlier.CommitAsync(Ct);
        }

        var events = (await a.Admin.ReadAsync("/v1/audit?limit=500")).EnumerateArray().ToList();
        var earlierSeq = events.Single(e => e.Str("subject") == "earlier").Long("seq");
        Assert.Equal(earlierSeq + 1, events.Single(e => e.Str("subject") == "later-0").Long("seq"));
        Assert.True((await a.Admin.ReadAsync("/v1/audit/verify")).GetProperty("intact").GetBoolean());
    }

    [Fact]
    public async Task Sequencers_SeveralAtOnce_OneGaplessChainNoSeqTwice()
    {
        var lenders = new[] { await Server.NewLenderAsync(), await Server.NewLenderAsync() };
        // Events of both lenders written by many units of work at once, while three sequencers (this node's and two
        // more, as other nodes would run) chain them concurrently.
        var others = Enumerable.Range(0, 2).Select(_ => ActivatorUtilities.CreateInstance<AuditSequencer>(Server.Services)).ToList();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var racing = others.Select(s => Task.Run(async () =>
        {
            try
            {
                while (true) await s.CatchUpAsync(stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }, Ct)).ToList();
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => RecordAsync(lenders[i % 2].LenderId, 25, $"unit{i}")));
        await Task.WhenAll(others.Select(s => s.CatchUpAsync(Ct)).Append(Sequencer.CatchUpAsync(Ct)));
        await stop.CancelAsync();
        await Task.WhenAll(racing);

        foreach (var a in lenders)
        {
            var seqs = await Server.WithDbAsync(db => db.AuditEvents.Where(e => e.LenderId == a.LenderId).Select(e => e.Seq).ToListAsync());
            Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long?)i), seqs.Order());
            Assert.True(seqs.Count > 500, $"{seqs.Count} events");
            var check = await a.Admin.ReadAsync("/v1/audit/verify");
            Assert.True(check.GetProperty("intact").GetBoolean(), check.GetRawText());
        }
        Assert.DoesNotContain(Server.Logs.Entries, e => e.Message.StartsWith("Chaining audit events failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sequencer_EventsWrittenOutsideLien_NeverChainedReportedAndLoggedOnce()
    {
        var a = await Server.NewLenderAsync();
        var device = await a.Admin.RegisterAsync();
        var before = await SeqsAsync(a);
        var genuine = await Server.WithDbAsync(db => db.AuditEvents.FirstAsync(e => e.LenderId == a.LenderId && e.Seq == 1));
        var forged = new[]
        {
            // Made up, with a MAC of the outsider's making (plain SHA-256: the key is not in the database).
            Outsider(a.LenderId, e => e.Mac = Convert.ToHexStringLower(SHA256.HashData(AuditChain.Content(e)))),
            // A genuine event copied under another identity, to be chained a second time: its MAC no longer fits.
            Copy(genuine, e => e.EventId = Guid.CreateVersion7()),
            // The same, with no identity at all (as events from before MACs have).
            Copy(genuine, e => e.EventId = null),
        };
        await Server.WithDbAsync(db =>
        {
            db.AuditEvents.AddRange(forged);
            return db.SaveChangesAsync();
        });
        // A copy under its own identity is not even stored.
        await Assert.ThrowsAsync<DbUpdateException>(() => Server.WithDbAsync(db =>
        {
            db.AuditEvents.Add(Copy(genuine, _ => { }));
            return db.SaveChangesAsync();
        }));
        // Lien's next events are chained past the forged rows as if they were not there.
        await a.Admin.PlanAsync(device.Id(), Server.Today.AddDays(3));

        var after = await SeqsAsync(a);
        Assert.Equal(Enumerable.Range(1, after.Count).Select(i => (long)i), after);
        Assert.True(after.Count > before.Count);
        var ids = forged.Select(f => f.Id).ToList();
        Assert.All(await Server.WithDbAsync(db => db.AuditEvents.Where(e => ids.Contains(e.Id)).Select(e => e.Seq).ToListAsync()), Assert.Null);
        for (var i = 0; i < 2; i++)
        {
            var check = await a.Admin.ReadAsync("/v1/audit/verify");
            Assert.False(check.GetProperty("intact").GetBoolean());
            Assert.Equal(3, check.Long("refused"));
            Assert.Equal(after.Count, check.Long("checked"));
            Assert.Equal(after.Count + 1, check.Long("brokenAt"));
        }
        foreach (var id in ids)
            Assert.Single(Server.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.StartsWith($"Audit event {id} of lender ", StringComparison.Ordinal));
    }

    private static AuditEvent Outsider(Guid lenderId, Action<AuditEvent> mac)
    {
        var e = new AuditEvent
        {
            LenderId = lenderId, EventId = Guid.CreateVersion7(), At = AuditChain.Stored(DateTimeOffset.UnixEpoch.AddYears(56)), Actor = "api-key:akforged",
            Action = "payment.recorded", Subject = "payment:" + Guid.NewGuid(), Data = "{\"amount\":100000}",
        };
        mac(e);
        return e;
    }

    private static AuditEvent Copy(AuditEvent e, Action<AuditEvent> change)
    {
        var copy = new AuditEvent
        {
            LenderId = e.LenderId, EventId = e.EventId, At = e.At, Actor = e.Actor, Action = e.Action, Subject = e.Subject, Reason = e.Reason,
            Policy = e.Policy, Data = e.Data, Mac = e.Mac,
        };
        change(copy);
        return copy;
    }
}

public sealed class SqliteAuditSequencerTests(SqliteRealClockServer server) : AuditSequencerTests(server), IClassFixture<SqliteRealClockServer>;

public sealed class PostgresAuditSequencerTests(PostgresRealClockServer server) : AuditSequencerTests(server), IClassFixture<PostgresRealClockServer>;
