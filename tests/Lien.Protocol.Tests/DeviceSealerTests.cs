using System.Security.Cryptography;

namespace Lien.Protocol.Tests;

/// <summary>One agreement for the whole enrollment answer: what it seals opens exactly as what is sealed alone.</summary>
public sealed class DeviceSealerTests
{
    [Fact]
    public void Sealer_CodeSecretAndAnswerKey_OpenWithTheDeviceKeyAndShareOneEphemeralKey()
    {
        using var device = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var deviceId = Guid.NewGuid();
        var secret = RandomNumberGenerator.GetBytes(16);
        var answerKey = RandomNumberGenerator.GetBytes(32);

        using var sealer = new DeviceSealer(device.ExportSubjectPublicKeyInfo());
        var sealedSecret = sealer.CodeSecret(secret, deviceId);
        var sealedKey = sealer.AnswerKey(answerKey, deviceId);

        Assert.Equal(secret, sealedSecret.Open(device, deviceId));
        Assert.Equal(answerKey, sealedKey.Open(device, deviceId));
        Assert.Equal(sealedSecret.EphemeralPublicKey, sealedKey.EphemeralPublicKey);
        Assert.NotEqual(sealedSecret.Nonce, sealedKey.Nonce);
        Assert.Equal(12, Convert.FromBase64String(sealedSecret.Nonce).Length);
        Assert.Equal(secret.Length + 16, Convert.FromBase64String(sealedSecret.Ciphertext).Length);
    }

    [Fact]
    public void Sealer_PurposesKeptApart_AnAnswerKeyDoesNotOpenAsACodeSecret()
    {
        using var device = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var deviceId = Guid.NewGuid();
        using var sealer = new DeviceSealer(device.ExportSubjectPublicKeyInfo());
        var sealedKey = sealer.AnswerKey(RandomNumberGenerator.GetBytes(32), deviceId);
        var asSecret = new SealedCodeSecret(sealedKey.EphemeralPublicKey, sealedKey.Nonce, sealedKey.Ciphertext);
        Assert.ThrowsAny<CryptographicException>(() => asSecret.Open(device, deviceId));
        Assert.ThrowsAny<CryptographicException>(() => sealedKey.Open(device, Guid.NewGuid()));
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.ThrowsAny<CryptographicException>(() => sealedKey.Open(other, deviceId));
    }
}
