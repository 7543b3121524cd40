using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lien.Protocol;
using Lien.Server.Storage;

namespace Lien.Server.AgentApi;

/// <summary>
/// Each device enrollment's check-in answer key: HMAC-SHA256(server secret <c>device-answer-mac</c>, ASCII
/// <c>"{deviceId:N}.{tokenEpoch}"</c>), 32 bytes. Any node derives it without storage, and each enrollment gets a fresh
/// one (the epoch moves). It reaches the device once, sealed to its key in the enrollment answer.
/// </summary>
internal sealed class AnswerKeys : IDisposable
{
    private const string SecretName = "device-answer-mac";
    private byte[]? _secret;
    // One HMAC context per thread under the secret, reused: setting one up per check-in cost more than the MAC itself.
    private readonly ThreadLocal<IncrementalHash> _mac;

    public AnswerKeys() =>
        _mac = new(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _secret ?? throw new InvalidOperationException("Answer keys are not loaded.")));

    /// <summary>Answer keys under <paramref name="secret"/>, without the database (for a test of one answer).</summary>
    public AnswerKeys(byte[] secret) : this() => _secret = secret;

    public async Task LoadAsync(IServiceProvider services) => _secret = await ServerSecret.LoadOrCreateAsync(services, SecretName);

    // A thread's context is released with the thread (it holds a SafeHandle); only the slot is ours to dispose.
    public void Dispose() => _mac.Dispose();

    /// <summary>Writes the answer key of <paramref name="deviceId"/>'s enrollment <paramref name="epoch"/> into <paramref name="key"/> (32 bytes).</summary>
    public void Derive(Guid deviceId, int epoch, Span<byte> key)
    {
        Span<char> chars = stackalloc char[48];
        if (!chars.TryWrite(CultureInfo.InvariantCulture, $"{deviceId:N}.{epoch}", out var written)) throw new InvalidOperationException("Unreachable: an id and an int fit.");
        Span<byte> ascii = stackalloc byte[48];
        var length = Encoding.ASCII.GetBytes(chars[..written], ascii);
        var mac = _mac.Value!;
        mac.AppendData(ascii[..length]);
        mac.GetHashAndReset(key);
    }

    /// <summary>The answer key of <paramref name="deviceId"/>'s enrollment <paramref name="epoch"/>, sealed by <paramref name="sealer"/> (one ECDH for the whole answer).</summary>
    public SealedAnswerKey Seal(Guid deviceId, int epoch, DeviceSealer sealer)
    {
        Span<byte> key = stackalloc byte[AnswerSignature.AnswerKeyBytes];
        Derive(deviceId, epoch, key);
        return sealer.AnswerKey(key, deviceId);
    }
}
