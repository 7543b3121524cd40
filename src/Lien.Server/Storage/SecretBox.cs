using System.Security.Cryptography;

namespace Lien.Server.Storage;

/// <summary>
/// Seals secrets at rest (lender private keys, device secrets, the token MAC key) with AES-256-GCM under
/// the master key from configuration <c>Lien:MasterKey</c>. Sealed form: version byte, nonce, tag, ciphertext.
/// Also derives keys of their own for other purposes (a MAC key), so no second secret needs storing.
/// </summary>
internal sealed class SecretBox(byte[] masterKey)
{
    private const byte Version = 1;

    public byte[] Seal(ReadOnlySpan<byte> plain, string purpose)
    {
        var sealedBytes = new byte[1 + 12 + 16 + plain.Length];
        sealedBytes[0] = Version;
        var nonce = sealedBytes.AsSpan(1, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(masterKey, 16);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(29), sealedBytes.AsSpan(13, 16), System.Text.Encoding.UTF8.GetBytes(purpose));
        return sealedBytes;
    }

    /// <summary>
    /// A 32-byte key for <paramref name="purpose"/>, derived from the master key (HKDF-SHA256): the same on every node
    /// that holds the master key, and useless for anything else.
    /// </summary>
    public byte[] DeriveKey(string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, masterKey, 32, info: System.Text.Encoding.UTF8.GetBytes("lien/" + purpose));

    public byte[] Open(ReadOnlySpan<byte> sealedBytes, string purpose)
    {
        if (sealedBytes.Length < 29 || sealedBytes[0] != Version)
            throw new CryptographicException("Sealed secret has an unknown format.");
        var plain = new byte[sealedBytes.Length - 29];
        using var aes = new AesGcm(masterKey, 16);
        aes.Decrypt(sealedBytes.Slice(1, 12), sealedBytes[29..], sealedBytes.Slice(13, 16), plain, System.Text.Encoding.UTF8.GetBytes(purpose));
        return plain;
    }
}
