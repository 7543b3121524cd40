using System.Collections.Concurrent;
using Lien.Server.Api;

namespace Lien.Server.Lenders;

/// <summary>
/// API keys that authenticated lately, so a lender's busy integration costs no database read per request (it was one
/// query of every payment). Only a key that authenticated is held — an unknown or wrong key is read every time and never
/// fills memory — and the secret is still checked against its hash on every request. A key is held for at most
/// <c>Lien:ApiKeys:CacheSeconds</c> (default 5, 0 to 60; 0 reads every time): revoking drops it at once on the node that
/// revokes it; another node sharing the PostgreSQL database stops accepting it within that time.
/// </summary>
internal sealed class ApiKeyCache(TimeProvider time, IConfiguration configuration)
{
    public const string Setting = "Lien:ApiKeys:CacheSeconds";
    private const int MaxKeys = 10_000;
    private readonly ConcurrentDictionary<string, (ApiKey Key, DateTimeOffset Until)> _keys = new();
    private static readonly WholeNumberSetting Seconds = new(Setting, 0, 60, 5, "of seconds ");
    private readonly TimeSpan _hold = TimeSpan.FromSeconds(Seconds.Value(configuration) ?? Seconds.Default); // a bad value is refused at start

    /// <summary>What is wrong with <c>Lien:ApiKeys:CacheSeconds</c>, in one sentence, or null: the server does not start with it.</summary>
    public static string? SettingsProblem(IConfiguration config) => Seconds.Problem(config);

    /// <summary>The key <paramref name="id"/> as read within the hold, or null.</summary>
    public ApiKey? Find(string id) =>
        _keys.TryGetValue(id, out var held) && time.GetUtcNow() < held.Until ? held.Key : null;

    /// <summary>Holds <paramref name="key"/>, which just authenticated.</summary>
    public void Hold(ApiKey key)
    {
        if (_hold <= TimeSpan.Zero) return;
        if (_keys.Count >= MaxKeys) _keys.Clear();
        _keys[key.Id] = (key, time.GetUtcNow() + _hold);
    }

    /// <summary>Drops key <paramref name="id"/> (revoked).</summary>
    public void Forget(string id) => _keys.TryRemove(id, out _);
}
