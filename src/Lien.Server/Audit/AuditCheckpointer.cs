using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Audit;

/// <summary>
/// Every <see cref="AuditOptions.CheckpointInterval"/>, signs the head of each lender's audit chain that moved since
/// its last checkpoint. Events newer than the newest checkpoint can still be deleted without trace by someone who can
/// write the database; older ones cannot (see docs/ARCHITECTURE.md, "The audit trail").
/// </summary>
internal sealed class AuditCheckpointer(IServiceScopeFactory scopes, AuditSequencer sequencer, TimeProvider time, IOptions<AuditOptions> options,
    ILogger<AuditCheckpointer> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Value.CheckpointInterval, time, stoppingToken);
                await CheckpointAllAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                log.LogWarning(e, "Audit checkpoint failed; trying again after the interval.");
            }
        }
    }

    /// <summary>Checkpoints every lender whose chain moved; returns how many checkpoints were written.</summary>
    public async Task<int> CheckpointAllAsync(CancellationToken ct)
    {
        List<Guid> lenders;
        await using (var scope = scopes.CreateAsyncScope())
            lenders = await scope.ServiceProvider.GetRequiredService<LienDb>().Lenders.AsNoTracking().Select(l => l.Id).ToListAsync(ct);
        await sequencer.CatchUpAsync(ct);
        var written = 0;
        foreach (var lenderId in lenders)
            if (await CheckpointChainedAsync(lenderId, ct) is not null) written++;
        return written;
    }

    /// <summary>Signs the lender's chain head now (once what was committed before is chained), unless the newest checkpoint already covers it.</summary>
    public async Task<AuditCheckpoint?> CheckpointAsync(Guid lenderId, CancellationToken ct)
    {
        await sequencer.CatchUpAsync(ct);
        return await CheckpointChainedAsync(lenderId, ct);
    }

    private async Task<AuditCheckpoint?> CheckpointChainedAsync(Guid lenderId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        var signer = scope.ServiceProvider.GetRequiredService<IAuditSigner>();
        var head = await db.AuditEvents.AsNoTracking().Where(e => e.LenderId == lenderId && e.Seq != null).OrderByDescending(e => e.Seq)
            .Select(e => new { Seq = e.Seq!.Value, Hash = e.Hash! }).FirstOrDefaultAsync(ct);
        if (head is null) return null;
        if (await CoveredAsync(db, lenderId, head.Seq, ct)) return null;
        var at = AuditChain.Stored(time.GetUtcNow());
        var claims = new AuditCheckpointClaims(lenderId, head.Seq, head.Hash, at);
        var jws = await signer.SignAsync(db, lenderId, JsonSerializer.SerializeToUtf8Bytes(claims, LeaseClaims.Json), AuditCheckpointClaims.MediaType, ct);
        var checkpoint = new AuditCheckpoint { LenderId = lenderId, Seq = head.Seq, Hash = head.Hash, At = at, Jws = jws };
        // Another node may sign the same head at the same moment: the unique index lets one in, the other finds it on its redo.
        return await db.InTransactionAsync(async () =>
        {
            if (await CoveredAsync(db, lenderId, head.Seq, ct)) return null;
            db.AuditCheckpoints.Add(checkpoint);
            return checkpoint;
        }, ct);
    }

    private static Task<bool> CoveredAsync(LienDb db, Guid lenderId, long seq, CancellationToken ct) =>
        db.AuditCheckpoints.AnyAsync(c => c.LenderId == lenderId && c.Seq >= seq, ct);
}
