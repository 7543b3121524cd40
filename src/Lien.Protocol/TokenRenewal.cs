using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Lien.Protocol;

/// <summary>
/// A device asking for a fresh token once its own has expired (docs/PROTOCOL.md §2): its id and the time, signed with
/// its enrolled key. <see cref="Signature"/> is base64url ES256 (IEEE P1363, 64 bytes) over <see cref="TokenRenewal.SigningInput"/>.
/// </summary>
public sealed record RenewRequest(Guid DeviceId, long SignedAt, string Signature);

/// <summary>The renewal answer: the new bearer token and when it expires.</summary>
public sealed record RenewResponse(string DeviceToken, DateTimeOffset ExpiresAt);

/// <summary>Token renewal's signature, both sides: what the agent signs and what the server checks.</summary>
public static class TokenRenewal
{
    /// <summary>The exact bytes (UTF-8) the device signs: <c>lien-renew-v1\n{deviceId:D}\n{signedAt}</c>.</summary>
    public static string SigningInput(Guid deviceId, long signedAt) =>
        string.Create(CultureInfo.InvariantCulture, $"lien-renew-v1\n{deviceId:D}\n{signedAt}");

    /// <summary>The renewal request of <paramref name="deviceId"/>, signed with its enrolled <paramref name="key"/> at <paramref name="signedAt"/> (unix seconds).</summary>
    public static RenewRequest Sign(Guid deviceId, ECDsa key, long signedAt)
    {
        var signature = key.SignData(Encoding.UTF8.GetBytes(SigningInput(deviceId, signedAt)), HashAlgorithmName.SHA256,
            DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new RenewRequest(deviceId, signedAt, Base64Url.EncodeToString(signature));
    }

    /// <summary>
    /// True when <paramref name="request"/>'s signature verifies with <paramref name="publicKey"/> (the device's enrolled
    /// DER SubjectPublicKeyInfo). Checks neither the time (<see cref="SignedAt"/>) nor the device: both belong to the caller. Never throws on input.
    /// </summary>
    public static bool Verify(RenewRequest request, byte[] publicKey)
    {
        if (request.Signature is not { Length: > 0 and <= 256 } text || !Base64Url.IsValid(text, out var length) || length != 64) return false;
        using var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(publicKey, out _);
        }
        catch (CryptographicException)
        {
            return false;
        }
        return key.VerifyData(Encoding.UTF8.GetBytes(SigningInput(request.DeviceId, request.SignedAt)), Base64Url.DecodeFromChars(text),
            HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }
}
