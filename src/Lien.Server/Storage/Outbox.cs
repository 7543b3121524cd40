using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Storage;

/// <summary>An outbox row: due for an attempt at <see cref="DueAt"/>, or done (null).</summary>
internal interface IOutboxRow
{
    DateTimeOffset? DueAt { get; set; }
}

internal static class Outbox
{
    /// <summary>
    /// Claims up to <paramref name="batch"/> rows that are due, soonest first, by moving each one's due time
    /// <paramref name="claimFor"/> ahead in one short transaction: a node that stops mid-attempt leaves the row to a later
    /// claim, never lost. On PostgreSQL the rows are locked with FOR UPDATE SKIP LOCKED, so nodes claiming at once take
    /// different rows; on SQLite the one writer already takes turns.
    /// </summary>
    public static Task<List<T>> ClaimDueAsync<T>(this LienDb db, DateTimeOffset now, int batch, TimeSpan claimFor, CancellationToken ct)
        where T : class, IOutboxRow =>
        db.InTransactionAsync(async () =>
        {
            var set = db.Set<T>();
            var table = db.Model.FindEntityType(typeof(T))!.GetTableName();
            var due = db.IsSqlite
                ? await set.Where(m => m.DueAt != null && m.DueAt <= now).OrderBy(m => m.DueAt).Take(batch).ToListAsync(ct)
#pragma warning disable EF1002 // the table name comes from the model, not from input
                : await set.FromSqlRaw($$"""
                    SELECT * FROM "{{table}}" WHERE "DueAt" IS NOT NULL AND "DueAt" <= {0} ORDER BY "DueAt" LIMIT {1} FOR UPDATE SKIP LOCKED
                    """, now, batch).ToListAsync(ct);
#pragma warning restore EF1002
            foreach (var m in due) m.DueAt = now + claimFor;
            return due;
        }, ct);
}

/// <summary>
/// A node's sender of one outbox: every poll interval it attempts what is due (<see cref="SendDueAsync"/>, which tests
/// also call at the instants they choose); a database fault is logged and retried at the next poll. A zero interval
/// turns the sender off on this node, for a deployment where other nodes send.
/// </summary>
internal abstract class OutboxSender(TimeProvider time, ILogger log) : BackgroundService
{
    protected TimeProvider Time => time;

    protected abstract TimeSpan PollInterval { get; }

    /// <summary>Attempts every row that is due now; returns how many attempts were made.</summary>
    public abstract Task<int> SendDueAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (PollInterval <= TimeSpan.Zero) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SendDueAsync(stoppingToken);
                await Task.Delay(PollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                log.LogWarning(e, "{Sender} failed; retrying.", GetType().Name);
                await Task.Delay(PollInterval, time, stoppingToken);
            }
        }
    }

    /// <summary>The wait before the next attempt after <paramref name="attempts"/> failed ones: <paramref name="first"/>, doubling, at most <paramref name="max"/>.</summary>
    public static TimeSpan Backoff(TimeSpan first, TimeSpan max, int attempts) =>
        TimeSpan.FromTicks(Math.Min(max.Ticks, first.Ticks * (1L << Math.Clamp(attempts - 1, 0, 30))));
}
