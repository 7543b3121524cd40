using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lien.Protocol;

namespace Lien.Agent;

/// <summary>Where the agent keeps its state between runs. Saved after every change; gone after a factory reset.</summary>
public interface IAgentStore
{
    /// <summary>The saved state, or null when there is none (first boot, factory reset).</summary>
    Task<AgentState?> LoadAsync(CancellationToken ct = default);

    /// <summary>Replaces the saved state; when this returns, the new state survives a power cut.</summary>
    Task SaveAsync(AgentState state, CancellationToken ct = default);
}

/// <summary>
/// The state as one JSON file (<c>{"version":1,"state":{…}}</c>), written atomically: a temp file beside it, flushed to
/// disk, then renamed over the old one, so a crash leaves either the old state or the new, never half of one.
/// </summary>
public sealed class FileAgentStore(string path) : IAgentStore
{
    /// <summary>The options the state file is written with: the lease JSON conventions, indented, enums as names.</summary>
    private static readonly JsonSerializerOptions Json = new(LeaseClaims.Json)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public string Path => path;

    public async Task<AgentState?> LoadAsync(CancellationToken ct = default)
    {
        if (!File.Exists(path)) return null;
        await using var file = File.OpenRead(path);
        var saved = await JsonSerializer.DeserializeAsync<StateFile>(file, Json, ct);
        return saved is { Version: 1 } ? saved.State : throw new InvalidDataException($"{path}: unknown state file version {saved?.Version}");
    }

    public async Task SaveAsync(AgentState state, CancellationToken ct = default)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
            {
                await JsonSerializer.SerializeAsync(file, new StateFile(1, state), Json, ct);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private sealed record StateFile(int Version, AgentState State);
}

/// <summary>Device keys: P-256, generated on the device. In the reference agent the private key is kept in the state file.</summary>
internal static class DeviceKeys
{
    /// <summary>A fresh identity for a device with these IMEIs: a new P-256 key pair.</summary>
    public static DeviceIdentity NewIdentity(IReadOnlyList<string> imeis)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new DeviceIdentity(imeis, Convert.ToBase64String(key.ExportPkcs8PrivateKey()));
    }

    /// <summary>Opens the identity's private key.</summary>
    public static ECDsa Open(DeviceIdentity identity)
    {
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(identity.PrivateKey), out _);
        return key;
    }
}

/// <summary>State kept in memory only: for simulated devices, which need no restart.</summary>
public sealed class MemoryAgentStore : IAgentStore
{
    private AgentState? _state;

    public Task<AgentState?> LoadAsync(CancellationToken ct = default) => Task.FromResult(Volatile.Read(ref _state));

    public Task SaveAsync(AgentState state, CancellationToken ct = default)
    {
        Volatile.Write(ref _state, state);
        return Task.CompletedTask;
    }
}
