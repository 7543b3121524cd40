using Lien.Server.Storage;
using Microsoft.Extensions.Options;

namespace Lien.Server.Notices;

/// <summary>
/// Sends the SMS outbox through the provider (<see cref="ISmsSender"/>): a message it takes is Sent (its delivery report
/// comes later), one it refuses is Failed with its words, one it cannot take now is retried with backoff until
/// <see cref="SmsMessage.RetryUntil"/>. Nodes share the work: claims use FOR UPDATE SKIP LOCKED on PostgreSQL.
/// </summary>
internal sealed class SmsDispatcher(IServiceScopeFactory scopes, ISmsSender sender, TimeProvider time, IOptions<SmsOptions> options,
    ILogger<SmsDispatcher> log) : OutboxSender(time, log)
{
    private const int Batch = 50;
    private static readonly TimeSpan ClaimFor = TimeSpan.FromMinutes(2);

    protected override TimeSpan PollInterval => options.Value.PollInterval;

    public override async Task<int> SendDueAsync(CancellationToken ct)
    {
        // Messages queued while an account was configured wait for one: they are not failed for a setting.
        if (!sender.Configured) return 0;
        var attempted = 0;
        int claimed;
        do
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            var notices = scope.ServiceProvider.GetRequiredService<SmsNotices>();
            var messages = await db.ClaimDueAsync<SmsMessage>(Time.GetUtcNow(), Batch, ClaimFor, ct);
            claimed = messages.Count;
            foreach (var m in messages)
            {
                var result = await sender.SendAsync(m.To, m.Text, ct);
                attempted++;
                await RecordAsync(m, result, notices, ct);
            }
            using (await db.WriteGateAsync(ct))
                await db.SaveChangesAsync(ct);
        } while (claimed == Batch);
        return attempted;
    }

    private async Task RecordAsync(SmsMessage m, SmsSendResult result, SmsNotices notices, CancellationToken ct)
    {
        var now = Time.GetUtcNow();
        m.Attempts++;
        m.LastAttemptAt = now;
        m.Provider = sender.Name;
        (m.ProviderStatus, m.ProviderStatusCode, m.Error) = (result.Status, result.StatusCode, Clip(result.Error));
        switch (result.Outcome)
        {
            case SmsSendOutcome.Accepted:
                (m.Status, m.DueAt, m.SentAt, m.ProviderMessageId, m.Cost) = (SmsStatus.Sent, null, now, result.MessageId, result.Cost);
                m.Forget();
                await notices.NoticeSentAsync(m, ct);
                break;
            case SmsSendOutcome.RetryLater when now + options.Value.Backoff(m.Attempts) <= m.RetryUntil:
                m.DueAt = now + options.Value.Backoff(m.Attempts);
                break;
            default: // refused, or no longer worth retrying
                (m.Status, m.DueAt) = (SmsStatus.Failed, null);
                m.Error ??= "Not taken by the provider in time.";
                m.Forget();
                await notices.NoticeFailedAsync(m, ct);
                break;
        }
    }

    private static string? Clip(string? s) => s is { Length: > 500 } ? s[..497] + "..." : s;
}
