using System.Collections.Concurrent;
using System.Data.Common;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.DeviceApi;

/// <summary>
/// Collects "last seen" from check-ins and writes it in batches every few seconds, so a check-in costs a read and not a
/// write. A crash loses at most one interval of last-seen times, which nothing depends on.
/// </summary>
internal sealed class LastSeenRecorder(IServiceScopeFactory scopes, TimeProvider time, ILogger<LastSeenRecorder> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private ConcurrentDictionary<Guid, DateTimeOffset> _seen = new();

    public void Saw(Guid deviceId, DateTimeOffset at) => _seen[deviceId] = at;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            await FlushAsync(CancellationToken.None);
        }
        await FlushAsync(CancellationToken.None);
    }

    public async Task FlushAsync(CancellationToken ct)
    {
        var batch = Interlocked.Exchange(ref _seen, new ConcurrentDictionary<Guid, DateTimeOffset>());
        if (batch.IsEmpty) return;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LienDb>();
            foreach (var group in batch.GroupBy(kv => DateTimeOffset.FromUnixTimeSeconds(kv.Value.ToUnixTimeSeconds())))
                foreach (var chunk in group.Select(kv => kv.Key).Chunk(500))
                {
                    var at = group.Key;
                    await db.Devices.Where(d => chunk.Contains(d.Id)).ExecuteUpdateAsync(u => u.SetProperty(d => d.LastSeenAt, at), ct);
                }
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException)
        {
            // Put the batch back (newer sightings win) so the next interval writes it.
            foreach (var (id, at) in batch) _seen.AddOrUpdate(id, at, (_, newer) => newer > at ? newer : at);
            log.LogWarning(e, "Could not record last-seen times for {Count} devices; retrying with the next batch.", batch.Count);
        }
    }
}
