using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Push;

/// <summary>
/// Delivers the push outbox: for each lease not yet acknowledged after the stream's head start, an FCM "check in now",
/// repeated with backoff until the device acknowledges. Nodes share the work: on PostgreSQL a batch is claimed with
/// FOR UPDATE SKIP LOCKED, so no two nodes push the same message at once.
/// </summary>
internal sealed class PushDispatcher(IServiceScopeFactory scopes, IPushSender sender, TimeProvider time, IOptions<PushOptions> options,
    ILogger<PushDispatcher> log) : BackgroundService
{
    private const int Batch = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DispatchDueAsync(stoppingToken);
                await Task.Delay(options.Value.PollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException or HttpRequestException or InvalidOperationException or TimeoutException)
            {
                log.LogWarning(e, "Push dispatch failed; retrying.");
                await Task.Delay(options.Value.PollInterval, time, stoppingToken);
            }
        }
    }

    /// <summary>Sends every push that is due now; returns how many messages were handled.</summary>
    public async Task<int> DispatchDueAsync(CancellationToken ct)
    {
        var handled = 0;
        List<PushMessage> claimed;
        do
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            claimed = await ClaimAsync(db, ct);
            foreach (var message in claimed)
            {
                await HandleAsync(db, message, ct);
                handled++;
            }
            using (await db.WriteGateAsync(ct))
                await db.SaveChangesAsync(ct);
        } while (claimed.Count == Batch);
        return handled;
    }

    // Claiming moves a message's due time ahead, so a crash mid-send means a later retry, never a lost push.
    private async Task<List<PushMessage>> ClaimAsync(LienDb db, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        return await db.InTransactionAsync(async () =>
        {
            var due = db.IsSqlite
                ? await db.PushMessages.Where(m => m.DueAt <= now).OrderBy(m => m.DueAt).Take(Batch).ToListAsync(ct)
                : await db.PushMessages.FromSql($"""
                    SELECT * FROM "PushMessages" WHERE "DueAt" <= {now} ORDER BY "DueAt" LIMIT {Batch} FOR UPDATE SKIP LOCKED
                    """).ToListAsync(ct);
            foreach (var m in due) m.DueAt = now + options.Value.Recheck;
            return due;
        }, ct);
    }

    private async Task HandleAsync(LienDb db, PushMessage message, CancellationToken ct)
    {
        var o = options.Value;
        var device = await db.Devices.FirstOrDefaultAsync(d => d.Id == message.DeviceId, ct);
        // Acknowledged, superseded by a newer lease (which has its own message), or nowhere to send: done.
        if (device is null || device.AppliedSeq >= message.Seq || device.LeaseSeq > message.Seq || device.PushToken is null)
        {
            db.PushMessages.Remove(message);
            return;
        }
        var result = await sender.SendCheckInAsync(device.PushToken, message.Seq, ct);
        var now = time.GetUtcNow();
        message.Attempts++;
        message.LastError = result.Error is { Length: > 500 } e ? e[..500] : result.Error;
        switch (result.Outcome)
        {
            case PushOutcome.NotConfigured:
                db.PushMessages.Remove(message);
                break;
            case PushOutcome.TokenInvalid:
                log.LogInformation("Device {Device} has an invalid push token; it will be told at its next check-in.", device.Id);
                device.PushToken = null;
                db.PushMessages.Remove(message);
                break;
            case PushOutcome.Sent or PushOutcome.RetryLater when message.Attempts >= o.MaxAttempts:
                db.PushMessages.Remove(message); // the device still gets the lease at its next check-in
                break;
            case PushOutcome.Sent:
                message.DueAt = now + o.Recheck * (1 << (message.Attempts - 1));
                break;
            case PushOutcome.RetryLater:
                message.DueAt = now + (result.RetryAfter ?? TimeSpan.FromSeconds(5 * (1 << message.Attempts)));
                break;
        }
    }
}
