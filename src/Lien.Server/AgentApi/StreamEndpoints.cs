using System.Text;
using System.Text.Json;
using Lien.Server.AgentApi;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.AgentApi;

/// <summary>
/// The instant channel: one Server-Sent Events stream per device. A committed lease is written to it at once and
/// again, with backoff, until the device acknowledges it. See docs/PROTOCOL.md §4.
/// </summary>
internal static class StreamEndpoints
{
    private static async Task<(Guid Id, CheckInRow Row)?> AuthenticateAsync(HttpRequest request, DeviceTokens tokens, CheckInReader reader,
        IServiceScopeFactory scopes, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await reader.AuthenticateAsync(scope.ServiceProvider.GetRequiredService<LienDb>(), tokens, request.Headers.Authorization.ToString(), ct);
    }

    // A short scope per read (the check-in's prepared read): an idle stream holds no database connection or context.
    private static async Task<CheckInRow?> ReadAsync(CheckInReader reader, IServiceScopeFactory scopes, Guid id, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await reader.ReadAsync(scope.ServiceProvider.GetRequiredService<LienDb>(), id, ct);
    }

    public static async Task<IResult> Stream(HttpContext http, long? appliedSeq, DeviceTokens tokens, CheckInReader reader, IServiceScopeFactory scopes,
        ChannelHub hub, Acks acks, Microsoft.Extensions.Options.IOptions<StreamOptions> options, TimeProvider time)
    {
        var ct = http.RequestAborted;
        if (await AuthenticateAsync(http.Request, tokens, reader, scopes, ct) is not var (deviceId, row)) return DeviceTokens.Unauthorized();
        var o = options.Value;
        var subscriber = hub.Subscribe(deviceId);
        try
        {
            // Read again now that commits wake this stream: a lease committed since the first read is not missed.
            var again = await ReadAsync(reader, scopes, deviceId, ct);
            if (again is null || again.TokenEpoch != row.TokenEpoch) return DeviceTokens.Unauthorized();
            // An idle stream keeps numbers, not the lease's text (about 3 KB a stream): the text is held only until written.
            var (epoch, leaseSeq, applied, jws) = (again.TokenEpoch, again.LeaseSeq, again.AppliedSeq, (string?)again.LeaseJws);
            (row, again) = (null!, null);
            var response = http.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no"; // no proxy buffering: the point is to arrive at once
            // The seq the device says it holds counts as its acknowledgement, as a check-in's appliedSeq does (PROTOCOL §4):
            // without it, a device whose ack was lost would be sent the lease it has, again and again.
            if (appliedSeq is { } held && held > applied && held <= leaseSeq)
            {
                await using (var scope = scopes.CreateAsyncScope())
                    await acks.RecordAsync(scope.ServiceProvider.GetRequiredService<LienDb>(), deviceId, held, ct);
                applied = held;
            }
            await response.WriteAsync(": connected\n\n", ct);
            await response.Body.FlushAsync(ct);
            long sent = appliedSeq ?? 0; // the device holds this one already
            DateTimeOffset sentAt = default;
            var retry = o.FirstRetry;
            var resendNow = false;
            // The first heartbeat falls anywhere in the first interval, so streams opened together (a cell tower coming
            // back, a server restart) do not all ping in the same seconds ever after; later ones are jittered ±20 %.
            var nextPing = time.GetUtcNow() + o.Heartbeat * Random.Shared.NextDouble();
            while (!ct.IsCancellationRequested && !subscriber.Superseded)
            {
                if (leaseSeq > applied && (leaseSeq > sent || resendNow))
                {
                    if (jws is null) // let go once the device had it
                    {
                        if (await ReadAsync(reader, scopes, deviceId, ct) is not { } latest || latest.TokenEpoch != epoch) break;
                        (leaseSeq, applied, jws) = (latest.LeaseSeq, Math.Max(applied, latest.AppliedSeq), latest.LeaseJws);
                    }
                    retry = leaseSeq > sent ? o.FirstRetry : TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, o.MaxRetry.Ticks));
                    await WriteLeaseAsync(response, leaseSeq, jws!, ct);
                    (sent, sentAt) = (leaseSeq, time.GetUtcNow());
                }
                if (leaseSeq <= sent) jws = null; // the device has it (or has been sent it): a resend reads it again
                resendNow = false;
                // Sleep until woken (a commit, an ack), the resend deadline or the heartbeat, whichever is first. What ran
                // out is what is due: the clock is not asked again, as a timer may fire a fraction early.
                var awaitingAck = leaseSeq > applied;
                var resendAt = awaitingAck ? sentAt + retry : DateTimeOffset.MaxValue;
                var pingFirst = nextPing <= resendAt;
                if (!await WokenAsync(subscriber, (pingFirst ? nextPing : resendAt) - time.GetUtcNow(), time, ct))
                {
                    if (ct.IsCancellationRequested) break;
                    if (!pingFirst) resendNow = true;
                    else
                    {
                        await response.Body.WriteAsync(Ping, ct);
                        await response.Body.FlushAsync(ct);
                        nextPing = time.GetUtcNow() + o.Heartbeat * (0.8 + 0.4 * Random.Shared.NextDouble());
                        continue; // a ping needs no database read
                    }
                }
                var news = subscriber.Take();
                // A resend is due and no ack reached this node: it may have reached another, so look in the database.
                if (news.Reread || resendNow && news.AppliedSeq < leaseSeq)
                {
                    var fresh = await ReadAsync(reader, scopes, deviceId, ct);
                    if (fresh is null || fresh.TokenEpoch != epoch) break; // re-enrolled elsewhere: this stream is over
                    (leaseSeq, applied, jws) = (fresh.LeaseSeq, fresh.AppliedSeq, fresh.LeaseJws);
                }
                if (news.LeaseSeq > leaseSeq) (leaseSeq, jws) = (news.LeaseSeq, news.LeaseJws);
                if (news.AppliedSeq > applied) applied = news.AppliedSeq;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the device went away
        }
        finally
        {
            hub.Unsubscribe(deviceId, subscriber);
        }
        return Results.Empty;
    }

    private static readonly ReadOnlyMemory<byte> Ping = ": ping\n\n"u8.ToArray();

    private static async Task WriteLeaseAsync(HttpResponse response, long seq, string jws, CancellationToken ct)
    {
        var data = JsonSerializer.Serialize(new { seq, lease = jws });
        await response.WriteAsync($"id: {seq}\nevent: lease\ndata: {data}\n\n", Encoding.UTF8, ct);
        await response.Body.FlushAsync(ct);
    }

    // Woken by news (true) or the wait ran out (false). Nothing throws on either path: thousands of idle streams each
    // time out every heartbeat.
    private static async Task<bool> WokenAsync(ChannelHub.Subscriber subscriber, TimeSpan wait, TimeProvider time, CancellationToken ct)
    {
        var signalled = subscriber.SignalledAsync();
        if (signalled.IsCompleted) return true;
        using var timerStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // Whole milliseconds, rounded up: a shorter delay would complete at once.
        var timer = Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(Math.Max(0, wait.TotalMilliseconds))), time, timerStop.Token);
        var first = await Task.WhenAny(signalled, timer);
        await timerStop.CancelAsync(); // a cancelled delay completes as canceled, without an exception
        return first == signalled;
    }
}
