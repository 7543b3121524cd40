using System.Text;
using System.Text.Json;
using Lien.Server.DeviceApi;
using Lien.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Channel;

internal sealed record AckRequest(long Seq);

internal sealed class StreamOptions
{
    /// <summary>A comment line this often keeps NATs and proxies from closing an idle stream.</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>First wait for an ack before the lease is written again; doubles up to <see cref="MaxRetry"/>.</summary>
    public TimeSpan FirstRetry { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan MaxRetry { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The instant channel: one Server-Sent Events stream per device. A committed lease is written to it at once and
/// again, with backoff, until the device acknowledges it. See docs/PROTOCOL.md §4.
/// </summary>
internal static class StreamEndpoints
{
    public static IServiceCollection AddChannel(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<StreamOptions>(config.GetSection("Lien:Stream"));
        services.AddSingleton<ChannelHub>();
        services.AddSingleton<Acks>();
        services.AddHostedService<PostgresLeaseListener>();
        return services;
    }

    public static IEndpointRouteBuilder MapChannel(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/device").WithTags("Device API").AllowAnonymous();
        g.MapGet("/stream", Stream).WithDescription("Server-Sent Events: `event: lease` with `data: {\"seq\":N,\"lease\":\"<jws>\"}`. Authorization: Device {token}.");
        g.MapPost("/ack", Ack).WithDescription("The device applied lease `seq`. Authorization: Device {token}.");
        return app;
    }

    private sealed record StreamRow(int TokenEpoch, long LeaseSeq, string LeaseJws, long AppliedSeq);

    private static async Task<(Guid Id, StreamRow Row)?> AuthenticateAsync(HttpRequest request, DeviceTokens tokens, IServiceScopeFactory scopes, CancellationToken ct)
    {
        var auth = request.Headers.Authorization.ToString();
        if (!tokens.TryReadHeader(auth, out var id, out var epoch)) return null;
        var row = await ReadAsync(scopes, id, ct);
        return row is null || row.TokenEpoch != epoch ? null : (id, row);
    }

    // A short scope per read: an idle stream holds no database connection or context.
    private static async Task<StreamRow?> ReadAsync(IServiceScopeFactory scopes, Guid id, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LienDb>();
        return await db.Devices.AsNoTracking().Where(d => d.Id == id)
            .Select(d => new StreamRow(d.TokenEpoch, d.LeaseSeq, d.LeaseJws, d.AppliedSeq)).FirstOrDefaultAsync(ct);
    }

    private static async Task<IResult> Stream(HttpContext http, long? appliedSeq, DeviceTokens tokens, IServiceScopeFactory scopes, ChannelHub hub,
        Microsoft.Extensions.Options.IOptions<StreamOptions> options, TimeProvider time)
    {
        var ct = http.RequestAborted;
        if (await AuthenticateAsync(http.Request, tokens, scopes, ct) is not var (deviceId, row)) return DeviceTokens.Unauthorized();
        var o = options.Value;
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // no proxy buffering: the point is to arrive at once
        var subscriber = hub.Subscribe(deviceId);
        try
        {
            await response.WriteAsync(": connected\n\n", ct);
            await response.Body.FlushAsync(ct);
            long sent = appliedSeq ?? 0; // the device holds this one already
            // The first heartbeat falls anywhere in the first interval, so streams opened together (a cell tower coming
            // back, a server restart) do not all ping in the same seconds ever after.
            var first = true;
            DateTimeOffset sentAt = default;
            var retry = o.FirstRetry;
            while (!ct.IsCancellationRequested && !subscriber.Superseded)
            {
                var now = time.GetUtcNow();
                var due = row.LeaseSeq > row.AppliedSeq && (row.LeaseSeq > sent || now - sentAt >= retry);
                if (due)
                {
                    retry = row.LeaseSeq > sent ? o.FirstRetry : TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, o.MaxRetry.Ticks));
                    await WriteLeaseAsync(response, row.LeaseSeq, row.LeaseJws, ct);
                    sent = row.LeaseSeq;
                    sentAt = now;
                }
                // Sleep until woken by a commit or an ack, the resend deadline, or the heartbeat. The heartbeat is jittered
                // (±20 %) so that thousands of streams opened together do not all ping in the same instant.
                var awaitingAck = row.LeaseSeq > row.AppliedSeq;
                var heartbeat = o.Heartbeat * (first ? Random.Shared.NextDouble() : 0.8 + 0.4 * Random.Shared.NextDouble());
                first = false;
                var wait = awaitingAck ? Min(heartbeat, sentAt + retry - time.GetUtcNow()) : heartbeat;
                if (!await WokenAsync(subscriber, wait, time, ct))
                {
                    if (ct.IsCancellationRequested) break;
                    await response.Body.WriteAsync(Ping, ct);
                    await response.Body.FlushAsync(ct);
                    // Nothing committed and nothing to resend: a ping needs no database read.
                    if (!awaitingAck) continue;
                }
                var fresh = await ReadAsync(scopes, deviceId, ct);
                if (fresh is null || fresh.TokenEpoch != row.TokenEpoch) break; // re-enrolled elsewhere: this stream is over
                row = fresh;
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

    private static async Task<Results<NoContent, ProblemHttpResult>> Ack(HttpRequest request, AckRequest body, DeviceTokens tokens, IServiceScopeFactory scopes,
        LienDb db, Acks acks, ChannelHub hub, CancellationToken ct)
    {
        if (await AuthenticateAsync(request, tokens, scopes, ct) is not var (deviceId, _)) return DeviceTokens.Unauthorized();
        await acks.RecordAsync(db, deviceId, body.Seq, ct);
        hub.LeaseCommitted(deviceId); // the stream stops resending
        return TypedResults.NoContent();
    }

    // Woken by a commit (true) or the wait ran out (false). No exception on the timeout path: thousands of idle streams
    // each time out every heartbeat.
    private static async Task<bool> WokenAsync(ChannelHub.Subscriber subscriber, TimeSpan wait, TimeProvider time, CancellationToken ct)
    {
        using var loser = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var woken = subscriber.WaitAsync(loser.Token);
        var timer = Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, time, loser.Token);
        await Task.WhenAny(woken, timer);
        await loser.CancelAsync(); // settles the other: a canceled semaphore wait takes nothing
        return woken.IsCompletedSuccessfully;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
