using System.Text;
using System.Text.Json;
using Lien.Server.Storage;

namespace Lien.Server.AgentApi;

/// <summary>
/// The instant channel: one Server-Sent Events stream per device. A committed lease is written to it at once and
/// again, with backoff, until the device acknowledges it. See docs/PROTOCOL.md §4.
/// </summary>
internal static class LeaseStream
{
    private static async Task<DeviceAuth> AuthenticateAsync(HttpRequest request, CheckInReader reader, IServiceScopeFactory scopes, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await reader.AuthenticateAsync(scope.ServiceProvider, request.Headers.Authorization.ToString(), ct);
    }

    // A short scope per read (the check-in's prepared read): an idle stream holds no database connection or context.
    private static async Task<CheckInRow?> ReadAsync(CheckInReader reader, IServiceScopeFactory scopes, Guid id, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await reader.ReadAsync(scope.ServiceProvider, id, ct);
    }

    public static async Task<IResult> Stream(HttpContext http, long? appliedSeq, CheckInReader reader, IServiceScopeFactory scopes,
        StreamHub hub, AppliedLeases applied, Microsoft.Extensions.Options.IOptions<StreamOptions> options, TimeProvider time)
    {
        var ct = http.RequestAborted;
        if (appliedSeq < 0)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["appliedSeq"] = ["appliedSeq must be 0 or more."] });
        var auth = await AuthenticateAsync(http.Request, reader, scopes, ct);
        if (auth.Row is not { } row) return auth.Problem(http.Response);
        var deviceId = auth.Id;
        if (appliedSeq > row.LeaseSeq)
        {
            await using var scope = scopes.CreateAsyncScope();
            await applied.RefuseAsync(scope.ServiceProvider.GetRequiredService<LienDb>(), deviceId, ct);
            return AgentApiEndpoints.AboveIssued(appliedSeq.Value, row.LeaseSeq);
        }
        var machine = new LeaseStreamMachine(options.Value);
        var subscriber = hub.Subscribe(deviceId, row.TokenEpoch);
        try
        {
            // Read again now that commits wake this stream: a lease committed since the first read is not missed.
            var again = await ReadAsync(reader, scopes, deviceId, ct);
            if (again is null || again.TokenEpoch != row.TokenEpoch) return DeviceTokens.Unauthorized();
            if (LeaseStreamMachine.HeldAck(again, appliedSeq) is { } held)
            {
                await using var scope = scopes.CreateAsyncScope();
                await applied.RecordAsync(scope.ServiceProvider.GetRequiredService<LienDb>(), deviceId, again.LenderId, held, ct);
            }
            var (state, step) = machine.Open(again, appliedSeq, time.GetUtcNow(), Random.Shared.NextDouble());
            (row, again) = (null!, null);
            var response = http.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no"; // no proxy buffering: the point is to arrive at once
            await response.WriteAsync(": connected\n\n", ct);
            await response.Body.FlushAsync(ct);
            // The machine decides; this loop reads the row when told, writes what it is told, and sleeps until news or
            // the step's deadline.
            while (!step.Over && !ct.IsCancellationRequested && !subscriber.Superseded)
            {
                if (step.Reread)
                {
                    var latest = await ReadAsync(reader, scopes, deviceId, ct);
                    (state, step) = machine.Read(state, latest, time.GetUtcNow());
                    continue;
                }
                if (step.Write == StreamWrite.Lease) await WriteLeaseAsync(response, step.Seq, step.Jws!, ct);
                else if (step.Write == StreamWrite.Ping) await WritePingAsync(response, ct);
                var wakeAt = step.WakeAt;
                step = default; // the text went with the write: a sleeping stream holds none
                var woken = await WokenAsync(subscriber, wakeAt - time.GetUtcNow(), time, ct);
                if (ct.IsCancellationRequested || subscriber.Superseded) break;
                (state, step) = machine.Next(state, subscriber.Take(), timeUp: !woken, time.GetUtcNow(), Random.Shared.NextDouble());
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

    private static async Task WritePingAsync(HttpResponse response, CancellationToken ct)
    {
        await response.Body.WriteAsync(Ping, ct);
        await response.Body.FlushAsync(ct);
    }

    private static async Task WriteLeaseAsync(HttpResponse response, long seq, string jws, CancellationToken ct)
    {
        var data = JsonSerializer.Serialize(new { seq, lease = jws });
        await response.WriteAsync($"id: {seq}\nevent: lease\ndata: {data}\n\n", Encoding.UTF8, ct);
        await response.Body.FlushAsync(ct);
    }

    // Woken by news (true) or the wait ran out (false). Nothing throws on either path: thousands of idle streams each
    // time out every heartbeat.
    private static async Task<bool> WokenAsync(StreamHub.Subscriber subscriber, TimeSpan wait, TimeProvider time, CancellationToken ct)
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
