using System.Security.Cryptography;
using System.Text;

namespace Lien.Protocol;

/// <summary>
/// The device's offline-code secret as it travels in the enrollment answer: encrypted to the device's own P-256 key
/// (ECDH with a one-time server key, HKDF-SHA256, AES-256-GCM), so only the key that signed the enrollment can read it.
/// Every field is standard base64 (RFC 4648 §4, padded): <see cref="EphemeralPublicKey"/> a DER SubjectPublicKeyInfo,
/// <see cref="Nonce"/> 12 bytes, <see cref="Ciphertext"/> the encrypted secret followed by the 16-byte GCM tag.
/// docs/PROTOCOL.md §7 spells it out with a worked vector.
/// </summary>
public sealed record SealedCodeSecret(string EphemeralPublicKey, string Nonce, string Ciphertext)
{
    internal static readonly byte[] Info = Encoding.ASCII.GetBytes("lien-code-secret-v1");

    /// <summary>Encrypts <paramref name="secret"/> to the holder of <paramref name="devicePublicKeySpki"/>; <paramref name="deviceId"/> is bound as associated data.</summary>
    public static SealedCodeSecret Seal(ReadOnlySpan<byte> secret, byte[] devicePublicKeySpki, Guid deviceId)
    {
        using var sealer = new DeviceSealer(devicePublicKeySpki);
        return sealer.CodeSecret(secret, deviceId);
    }

    // With the one-time key and nonce given: for the worked vector in docs/PROTOCOL.md §7, never with a key used twice.
    internal static SealedCodeSecret Seal(ReadOnlySpan<byte> secret, byte[] devicePublicKeySpki, Guid deviceId, ECDiffieHellman ephemeral, byte[] nonce)
    {
        using var sealer = new DeviceSealer(devicePublicKeySpki, ephemeral, ownsEphemeral: false);
        return sealer.CodeSecret(secret, deviceId, nonce);
    }

    /// <summary>Decrypts with the device's private key; throws <see cref="CryptographicException"/> when it is not for this key or device.</summary>
    public byte[] Open(ECDsa deviceKey, Guid deviceId) => DeviceSeal.Open(EphemeralPublicKey, Nonce, Ciphertext, deviceKey, deviceId, Info);
}

/// <summary>
/// The check-in answer key as it travels in the enrollment answer (<c>answerKey</c>): sealed to the device's key exactly
/// as <see cref="SealedCodeSecret"/> is, under its own HKDF info <c>lien-answer-key-v1</c>.
/// </summary>
public sealed record SealedAnswerKey(string EphemeralPublicKey, string Nonce, string Ciphertext)
{
    internal static readonly byte[] Info = Encoding.ASCII.GetBytes("lien-answer-key-v1");

    /// <summary>Encrypts <paramref name="answerKey"/> to the holder of <paramref name="devicePublicKeySpki"/>; <paramref name="deviceId"/> is bound as associated data.</summary>
    public static SealedAnswerKey Seal(ReadOnlySpan<byte> answerKey, byte[] devicePublicKeySpki, Guid deviceId)
    {
        using var sealer = new DeviceSealer(devicePublicKeySpki);
        return sealer.AnswerKey(answerKey, deviceId);
    }

    /// <summary>Decrypts with the device's private key; throws <see cref="CryptographicException"/> when it is not for this key or device.</summary>
    public byte[] Open(ECDsa deviceKey, Guid deviceId) => DeviceSeal.Open(EphemeralPublicKey, Nonce, Ciphertext, deviceKey, deviceId, Info);
}

/// <summary>
/// Seals several secrets to one device key with one ECDH agreement: one one-time key, one shared secret, and for each
/// secret its own HKDF key (its purpose's info) and nonce — what the enrollment answer needs for the code secret and the
/// answer key, at the cost of one. Each sealed value is exactly what sealing it alone writes (same format, same
/// <c>Open</c>); they share the ephemeral public key.
/// </summary>
public sealed class DeviceSealer : IDisposable
{
    private readonly ECDiffieHellman _ephemeral;
    private readonly bool _ownsEphemeral;
    private readonly byte[] _shared;
    private readonly string _ephemeralPublicKey;

    /// <summary>A sealer to the holder of <paramref name="devicePublicKeySpki"/> (a P-256 SubjectPublicKeyInfo), with a fresh one-time key.</summary>
    public DeviceSealer(byte[] devicePublicKeySpki) : this(devicePublicKeySpki, ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256), ownsEphemeral: true)
    {
    }

    internal DeviceSealer(byte[] devicePublicKeySpki, ECDiffieHellman ephemeral, bool ownsEphemeral)
    {
        (_ephemeral, _ownsEphemeral) = (ephemeral, ownsEphemeral);
        using var device = ECDiffieHellman.Create();
        device.ImportSubjectPublicKeyInfo(devicePublicKeySpki, out _);
        using var devicePublic = device.PublicKey; // a key object of its own: disposed here, not left to the finalizer
        _shared = ephemeral.DeriveRawSecretAgreement(devicePublic);
        _ephemeralPublicKey = Convert.ToBase64String(ephemeral.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The offline-code secret, sealed (as <see cref="SealedCodeSecret.Seal(ReadOnlySpan{byte}, byte[], Guid)"/> does).</summary>
    public SealedCodeSecret CodeSecret(ReadOnlySpan<byte> secret, Guid deviceId) => CodeSecret(secret, deviceId, RandomNumberGenerator.GetBytes(12));

    internal SealedCodeSecret CodeSecret(ReadOnlySpan<byte> secret, Guid deviceId, byte[] nonce)
    {
        var (n, ciphertext) = DeviceSeal.Encrypt(_shared, SealedCodeSecret.Info, secret, deviceId, nonce);
        return new SealedCodeSecret(_ephemeralPublicKey, n, ciphertext);
    }

    /// <summary>The check-in answer key, sealed (as <see cref="SealedAnswerKey.Seal"/> does).</summary>
    public SealedAnswerKey AnswerKey(ReadOnlySpan<byte> answerKey, Guid deviceId)
    {
        var (nonce, ciphertext) = DeviceSeal.Encrypt(_shared, SealedAnswerKey.Info, answerKey, deviceId, RandomNumberGenerator.GetBytes(12));
        return new SealedAnswerKey(_ephemeralPublicKey, nonce, ciphertext);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_shared);
        if (_ownsEphemeral) _ephemeral.Dispose();
    }
}

/// <summary>
/// Sealing to a device's own P-256 key (<see cref="DeviceSealer"/> makes the agreement): ECDH with a one-time server key, HKDF-SHA256 (empty salt, the purpose's info),
/// AES-256-GCM with the device id (16 bytes, big-endian) as associated data; base64 (standard) ephemeral SPKI, nonce, and
/// ciphertext with its 16-byte tag appended.
/// </summary>
internal static class DeviceSeal
{
    /// <summary>HKDF-SHA256 of the shared secret under <paramref name="info"/>, then AES-256-GCM; base64 nonce and ciphertext||tag.</summary>
    public static (string Nonce, string Ciphertext) Encrypt(byte[] shared, byte[] info, ReadOnlySpan<byte> secret, Guid deviceId, byte[] nonce)
    {
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, 32, salt: [], info: info);
        var ciphertext = new byte[secret.Length + 16];
        using (var aes = new AesGcm(key, 16))
            aes.Encrypt(nonce, secret, ciphertext.AsSpan(0, secret.Length), ciphertext.AsSpan(secret.Length), deviceId.ToByteArray(bigEndian: true));
        return (Convert.ToBase64String(nonce), Convert.ToBase64String(ciphertext));
    }

    public static byte[] Open(string ephemeralPublicKey, string nonce, string ciphertext, ECDsa deviceKey, Guid deviceId, byte[] info)
    {
        using var device = ECDiffieHellman.Create(deviceKey.ExportParameters(includePrivateParameters: true));
        using var ephemeral = ECDiffieHellman.Create();
        ephemeral.ImportSubjectPublicKeyInfo(Convert.FromBase64String(ephemeralPublicKey), out _);
        using var ephemeralPublic = ephemeral.PublicKey;
        var key = DeriveKey(device, ephemeralPublic, info);
        var data = Convert.FromBase64String(ciphertext);
        if (data.Length < 16) throw new CryptographicException("Sealed secret is too short.");
        var secret = new byte[data.Length - 16];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(Convert.FromBase64String(nonce), data.AsSpan(0, secret.Length), data.AsSpan(secret.Length), secret, deviceId.ToByteArray(bigEndian: true));
        return secret;
    }

    private static byte[] DeriveKey(ECDiffieHellman own, ECDiffieHellmanPublicKey other, byte[] info) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, own.DeriveRawSecretAgreement(other), 32, salt: [], info: info);
}

/// <summary>What a device needs to accept offline codes: its secret (sealed to its key), starting code, count and keypad.</summary>
public sealed record OfflineCodes(SealedCodeSecret Secret, long StartingCode, int Count, bool RestrictedDigitSet, int TimeDivider);
