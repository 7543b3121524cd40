using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Lien.Server.Tests.Webhooks;

/// <summary>
/// A lender's webhook receiver on loopback: records every request it gets (path, headers, body as sent) and answers each
/// path with the statuses it was told, in order (the last one repeats; 200 when told nothing).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private WebApplication? _app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> _answers = new();
    private readonly ConcurrentDictionary<string, int> _last = new();
    private readonly ConcurrentDictionary<string, TimeSpan> _delays = new();

    public sealed record Received(string Path, Dictionary<string, string> Headers, string Body)
    {
        public string Id => Headers["webhook-id"];
        public long Timestamp => long.Parse(Headers["webhook-timestamp"], System.Globalization.CultureInfo.InvariantCulture);
        public string Signature => Headers["webhook-signature"];
    }

    public Uri Url { get; private set; } = null!;
    public ConcurrentQueue<Received> Requests { get; } = new();

    public IReadOnlyList<Received> At(string path) => Requests.Where(r => r.Path == path).ToList();

    /// <summary>A fresh path on this receiver (one per test, so tests sharing the receiver do not see each other's requests).</summary>
    public string NewPath(string name) => $"/{name}-{Guid.NewGuid():N}";

    public Uri UrlOf(string path) => new(Url, path);

    /// <summary>Answers <paramref name="path"/> with these statuses, one per request; the last repeats.</summary>
    public void Answer(string path, params int[] statuses)
    {
        _answers[path] = new ConcurrentQueue<int>(statuses);
        _last[path] = statuses[^1];
    }

    /// <summary>Answers <paramref name="path"/> only after <paramref name="delay"/>.</summary>
    public void Delay(string path, TimeSpan delay) => _delays[path] = delay;

    public async Task StartAsync()
    {
        _app = await LoopbackApp.StartAsync(a =>
        {
            a.MapPost("/{**path}", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body);
                var body = await reader.ReadToEndAsync();
                var path = request.Path.Value!;
                Requests.Enqueue(new Received(path, request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), body));
                if (_delays.TryGetValue(path, out var delay)) await Task.Delay(delay);
                var status = _answers.TryGetValue(path, out var q) && q.TryDequeue(out var s) ? s : _last.GetValueOrDefault(path, 200);
                return status is >= 200 and < 300 ? Results.StatusCode(status) : Results.Text("receiver is down", statusCode: status);
            });
        });
        Url = new Uri(_app.Urls.First());
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}

/// <summary>The server with its webhook sender off (the tests send, at the instants they choose) and a receiver to send to.</summary>
public abstract class WebhookServer(Store store, bool realClock = false) : LienServer(store, realClock)
{
    public WebhookReceiver Receiver { get; } = new();

    public override async ValueTask InitializeAsync()
    {
        await Receiver.StartAsync();
        await base.InitializeAsync();
    }

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
        [new("Lien:Webhooks:PollInterval", "00:00:00"), new("Lien:Webhooks:Timeout", "00:00:02")];

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteWebhookServer() : WebhookServer(Store.Sqlite);
public sealed class PostgresWebhookServer() : WebhookServer(Store.Postgres);
public sealed class SqliteRealClockWebhookServer() : WebhookServer(Store.Sqlite, realClock: true);
public sealed class PostgresRealClockWebhookServer() : WebhookServer(Store.Postgres, realClock: true);
