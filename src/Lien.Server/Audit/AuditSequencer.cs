using System.Data.Common;
using System.Threading.Channels;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Audit;

/// <summary>
/// Chains audit events after the transactions that wrote them have committed, so a lender's writers never wait for one
/// another to number their events. In one short transaction per batch it takes the settled events not yet chained, by
/// id, checks each one's MAC, and gives it, lender by lender, the next seq, the previous event's hash and its own hash.
/// An event whose MAC does not verify, or that repeats a chained one, was written into the database outside Lien: it
/// is never chained, is logged once, and <see cref="AuditChain.VerifyAsync"/> reports it.
/// <para>
/// <b>Settled</b>: no transaction still running can add an event that should come before it. On SQLite every committed
/// event is (one writer at a time, so ids are given in commit order): a pass reads them outside the writer's turn and
/// takes the turn only for its updates. On PostgreSQL each event carries the id
/// of the transaction that inserted it, and only events of transactions older than every transaction still running
/// (below the snapshot's <c>xmin</c>) are chained; so an event is never overtaken by one of a transaction that began
/// after its own. One node sequences at a time (an advisory lock held to the commit).
/// </para>
/// Woken after each commit that wrote events (wakes that arrive while it works make one more pass), and every
/// <see cref="AuditOptions.SequencerInterval"/> in case a wake was lost. Readers of the chain first call
/// <see cref="CatchUpAsync"/>, so what they committed before is chained when they read.
/// </summary>
internal sealed class AuditSequencer(IServiceScopeFactory scopes, AuditChain chain, IOptions<AuditOptions> options, ILogger<AuditSequencer> log)
    : BackgroundService
{
    private const long LockKey = 0x4C69_656E_4175_6469; // "LienAudi": one key for the whole database
    // Passes at least this far apart under a stream of commits: 20 ms made about 50 passes a second under the payments
    // bench, each a few queries and a turn of the SQLite writer; at 100 ms it is 10, each chaining five times the events
    // (A/B, 2 alternated pairs: 2,789/2,901 -> 2,899/3,014 payments/s, 0.48/0.45 -> 0.45/0.44 ms CPU each). Nobody
    // waits for a pass: a reader of the chain catches up itself (CatchUpAsync).
    private static readonly TimeSpan Spacing = TimeSpan.FromMilliseconds(100);

    // The most chained events one SQLite unit of work writes (SequenceOnSqliteAsync).
    internal const int UpdatesPerUnit = 64;

    // Waiting here is on the database's progress, not on the lending clock: the system clock, also when tests fake the other.
    private static readonly TimeProvider Clock = TimeProvider.System;

    private readonly Channel<bool> _wakes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly SemaphoreSlim _passing = new(1, 1);
    private readonly HashSet<long> _refused = []; // ids of events this node found not to be Lien's, passed over from then on
    private long _requested, _served;
    private Pass _last = new(0, null);

    /// <summary>What a pass saw: the newest event id when it began, and the oldest event it left unchained (not refused), if any.</summary>
    private sealed record Pass(long NewestId, long? OldestWaiting);

    /// <summary>Asks for a pass soon; wakes that arrive before it starts are one.</summary>
    public void Wake() => _wakes.Writer.TryWrite(true);

    /// <summary>
    /// Returns once every event committed before the call is chained (or refused), waiting for the transactions that
    /// must end before them to end, for at most <see cref="AuditOptions.CatchUpTimeout"/>.
    /// </summary>
    public async Task CatchUpAsync(CancellationToken ct)
    {
        var started = Clock.GetTimestamp();
        var pass = await PassAsync(ct);
        var newest = pass.NewestId;
        for (var wait = 1; pass.OldestWaiting <= newest; wait = Math.Min(wait * 2, 50))
        {
            if (Clock.GetElapsedTime(started) > options.Value.CatchUpTimeout)
            {
                log.LogWarning("Audit event {Id} is still not chained after {Timeout}: a transaction begun before it has been open that long. Reading the chain as it is.",
                    pass.OldestWaiting, options.Value.CatchUpTimeout);
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(wait), Clock, ct);
            pass = await PassAsync(ct);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var idle = options.Value.SequencerInterval;
        var next = TimeSpan.Zero; // a pass at start chains what was written while no server ran (an operator command, say)
        var retry = TimeSpan.Zero;
        var lastPass = Clock.GetTimestamp();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (next > TimeSpan.Zero) await WakeOrAfterAsync(next, stoppingToken);
                // Under a stream of commits, passes a little apart chain more events each for the same few statements;
                // nobody waits for them (a reader catches up itself).
                if (Clock.GetElapsedTime(lastPass) is var since && since < Spacing) await Task.Delay(Spacing - since, Clock, stoppingToken);
                var pass = await PassAsync(stoppingToken);
                lastPass = Clock.GetTimestamp();
                // Events left waiting for an older transaction are looked at again soon (backing off): its end may wake nobody.
                retry = pass.OldestWaiting is null ? TimeSpan.Zero : retry == TimeSpan.Zero ? TimeSpan.FromMilliseconds(10) : Min(retry * 2, idle);
                next = retry == TimeSpan.Zero ? idle : retry;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is DbUpdateException or DbException or InvalidOperationException or TimeoutException)
            {
                log.LogWarning(e, "Chaining audit events failed; trying again.");
                next = idle;
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private async Task WakeOrAfterAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(delay);
        try
        {
            await _wakes.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
        }
    }

    // One pass at a time; a caller is served by a pass that began after it asked, which it may share with others.
    private async Task<Pass> PassAsync(CancellationToken ct)
    {
        var ticket = Interlocked.Increment(ref _requested);
        await _passing.WaitAsync(ct);
        try
        {
            if (_served >= ticket) return _last;
            var serves = Volatile.Read(ref _requested);
            _last = await SequenceAsync(ct);
            _served = serves;
            return _last;
        }
        finally
        {
            _passing.Release();
        }
    }

    private async Task<Pass> SequenceAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        var newest = await db.AuditEvents.MaxAsync(e => (long?)e.Id, ct) ?? 0;
        while (await SequenceBatchAsync(db, ct) == options.Value.SequencerBatch) db.ChangeTracker.Clear();
        var oldestWaiting = await db.AuditEvents.Where(e => e.Seq == null && !_refused.Contains(e.Id)).MinAsync(e => (long?)e.Id, ct);
        return new Pass(newest, oldestWaiting);
    }

    // On PostgreSQL the batch is written by one statement, the events' new columns passed as arrays: as tracked entities
    // it was an UPDATE apiece in the save's batch, which for ~125 events a pass cost the server EF's change detection and
    // command building, and PostgreSQL a statement each, for every payment's two events.
    private Task<int> SequenceBatchAsync(LienDb db, CancellationToken ct) => db.IsSqlite ? SequenceOnSqliteAsync(db, ct) : db.InTransactionAsync(async () =>
    {
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({LockKey})", ct);
        var batch = await Settled(db).AsNoTracking().Where(e => !_refused.Contains(e.Id)).OrderBy(e => e.Id).Take(options.Value.SequencerBatch).ToListAsync(ct);
        var chained = await ChainAsync(db, batch, ct);
        if (chained.Count == 0) return batch.Count;
        long[] ids = [.. chained.Select(e => e.Id)], seqs = [.. chained.Select(e => e.Seq!.Value)];
        string[] prevs = [.. chained.Select(e => e.PrevHash!)], hashes = [.. chained.Select(e => e.Hash!)];
        var written = await db.Database.ExecuteSqlAsync($"""
            UPDATE "AuditEvents" AS a SET "Seq" = v.seq, "PrevHash" = v.prev, "Hash" = v.hash
            FROM unnest({ids}, {seqs}, {prevs}, {hashes}) AS v(id, seq, prev, hash)
            WHERE a."Id" = v.id AND a."Seq" IS NULL
            """, ct);
        // Under the lock no other sequencer chains; an event chained meanwhile would mean one ran without it.
        if (written != chained.Count)
            throw new InvalidOperationException($"{chained.Count - written} of {chained.Count} audit events were chained by someone else meanwhile; the pass is rolled back.");
        return batch.Count;
    }, ct);

    /// <summary>
    /// On SQLite everything but the writes happens outside the writer's turn: the events are read, their MACs checked and
    /// their hashes computed while payments write (under the payments bench this held the one writer 4.7 ms for every
    /// ~125 events; now only the updates do). Every event read is committed (a reader sees nothing else) and a later one
    /// has a higher id. Another sequencer (one per node; on SQLite only tests run several) may chain the same events
    /// meanwhile: each update requires its event still unchained, and when one is not, none of the pass's updates is
    /// kept and it reads again — the lowest unchained event is in every sequencer's batch, so a stale head always meets
    /// one chained meanwhile.
    /// </summary>
    private async Task<int> SequenceOnSqliteAsync(LienDb db, CancellationToken ct)
    {
        while (true)
        {
            var batch = await db.AuditEvents.AsNoTracking().Where(e => e.Seq == null && !_refused.Contains(e.Id)).OrderBy(e => e.Id)
                .Take(options.Value.SequencerBatch).ToListAsync(ct);
            var chained = await ChainAsync(db, batch, ct);
            if (chained.Count == 0) return batch.Count;
            try
            {
                // In units of a few dozen updates, not one: under the payments bench a pass chains a few hundred events, and
                // as one unit it held the writer 3–4 ms, which every payment queued behind it waited out. Between these,
                // payments take their turns. A unit that finds an event chained meanwhile leaves the units before it
                // committed (each lender's chain continued without a gap, in id order): the pass reads again from there.
                foreach (var unit in chained.Chunk(UpdatesPerUnit))
                    await db.InTransactionAsync(async () =>
                    {
                        foreach (var e in unit)
                        {
                            using var update = new RawCommand<AuditEvent>(db,
                                """UPDATE "AuditEvents" SET "Seq" = @Seq, "PrevHash" = @PrevHash, "Hash" = @Hash WHERE "Id" = @Id AND "Seq" IS NULL""");
                            if (await update.With(nameof(AuditEvent.Seq), e.Seq).With(nameof(AuditEvent.PrevHash), e.PrevHash)
                                    .With(nameof(AuditEvent.Hash), e.Hash).With(nameof(AuditEvent.Id), e.Id).ExecuteAsync(ct) != 1)
                                throw new ChainedMeanwhileException();
                        }
                        return unit.Length;
                    }, ct);
                return batch.Count;
            }
            catch (ChainedMeanwhileException)
            {
                // Nothing was tracked (the reads are untracked, the updates hand-written): read again.
            }
        }
    }

    /// <summary>Another sequencer chained an event of this pass first: the unit of work is rolled back, and the pass reads again.</summary>
    private sealed class ChainedMeanwhileException : Exception;

    // Gives each event of batch that Lien wrote its place in its lender's chain (seq, previous hash, hash), in id order;
    // refuses (and logs once) the others. Returns the events chained.
    private async Task<List<AuditEvent>> ChainAsync(LienDb db, List<AuditEvent> batch, CancellationToken ct)
    {
        var refused = await chain.RefusedAsync(db, batch, ct);
        foreach (var e in batch.Where(e => refused.Contains(e.Id) && _refused.Add(e.Id)))
            log.LogWarning("Audit event {Id} of lender {LenderId} ({Action}, {Subject}) is not chained: its MAC does not verify or it repeats a chained event, "
                           + "so it was written into the database outside Lien. GET /v1/audit/verify reports it.", e.Id, e.LenderId, e.Action, e.Subject);
        var chained = new List<AuditEvent>(batch.Count);
        foreach (var lender in batch.Where(e => !refused.Contains(e.Id)).GroupBy(e => e.LenderId))
        {
            var head = await db.AuditEvents.AsNoTracking().Where(e => e.LenderId == lender.Key && e.Seq != null).OrderByDescending(e => e.Seq)
                .Select(e => new { e.Seq, e.Hash }).FirstOrDefaultAsync(ct);
            var (seq, prev) = (head?.Seq ?? 0, head?.Hash ?? AuditChain.Genesis);
            foreach (var e in lender)
            {
                e.Seq = ++seq;
                e.PrevHash = prev;
                e.Hash = prev = chain.HashOf(e);
                chained.Add(e);
            }
        }
        return chained;
    }

    // PostgreSQL: the events not yet chained that no running transaction can precede (see the class summary).
    // An id no transaction can hold (none, or one not yet given out) cannot make the event wait either.
    private static IQueryable<AuditEvent> Settled(LienDb db) => db.AuditEvents.FromSql($"""
        SELECT * FROM "AuditEvents"
        WHERE "Seq" IS NULL
          AND ("Xid" IS NULL
               OR "Xid" < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
               OR "Xid" >= pg_snapshot_xmax(pg_current_snapshot())::text::bigint)
        """);
}
