using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lien.Protocol.Codes;
using Lien.Server.Storage;

namespace Lien.Server.Codes;

/// <summary>
/// What an approval says: an admin's API key let one more code of its type be issued for a device until it expires.
/// <c>Count</c> is the device's code count when it was granted, so the next code issued uses the approval up.
/// </summary>
internal sealed record CodeApproval(Guid DeviceId, int Count, string ApproverKeyId, DateTimeOffset ExpiresAt);

/// <summary>
/// The second approver of a code that frees a phone for good (DisablePayg), with nothing stored: an approval is a token
/// <c>ca2.{type}.{device}.{count}.{approver key}.{expiry}.{secret version}.{mac}</c>, the MAC an HMAC-SHA256 under a key
/// derived from the master key over those fields and the lender. It is good for 15 minutes and for one code: the
/// device's count moves on when a code is issued, and a re-enrollment (a fresh secret,
/// <see cref="Devices.Device.CodeSecretVersion"/>) voids it. Whether the approver may approve (an admin, not the issuer) is the caller's to check.
/// </summary>
internal sealed class CodeApprovals(SecretBox box)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);
    private const string Version = "ca2";
    private const int MaxLength = 200;
    private readonly byte[] _key = box.DeriveKey("code-approval");

    public string Grant(Guid lenderId, int secretVersion, TokenType type, CodeApproval approval)
    {
        var body = Body(type, approval.DeviceId, approval.Count, approval.ApproverKeyId, approval.ExpiresAt.ToUnixTimeSeconds(), secretVersion);
        return $"{body}.{Base64Url.EncodeToString(Mac(lenderId, body))}";
    }

    /// <summary>
    /// The approval a token carries, or null with <paramref name="refusal"/> saying why it does not hold here and now for a
    /// device holding code secret <paramref name="secretVersion"/>.
    /// </summary>
    public CodeApproval? Check(string token, Guid lenderId, int secretVersion, Guid deviceId, TokenType type, DateTimeOffset now, out string refusal)
    {
        refusal = "";
        // The MAC covers the body exactly as written, so a token has one spelling: nothing is parsed before it holds.
        var dot = token.Length <= MaxLength ? token.LastIndexOf('.') : -1;
        var parts = dot > 0 && CryptographicOperations.FixedTimeEquals(
                Encoding.ASCII.GetBytes(token[(dot + 1)..]), Encoding.ASCII.GetBytes(Base64Url.EncodeToString(Mac(lenderId, token[..dot]))))
            ? token[..dot].Split('.')
            : [];
        if (parts is not [Version, var typeName, var device, var count, var keyId, var expiry, var version]
            || typeName != type.ToString()
            || !Guid.TryParseExact(device, "N", out var approvedDevice)
            || !int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var approvedCount)
            || !long.TryParse(expiry, NumberStyles.None, CultureInfo.InvariantCulture, out var expiresAt)
            || expiresAt > DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            || !int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var approvedVersion))
        {
            refusal = $"The approval is not one this server granted for a {type} code of this lender.";
            return null;
        }
        var approval = new CodeApproval(approvedDevice, approvedCount, keyId, DateTimeOffset.FromUnixTimeSeconds(expiresAt));
        if (approvedDevice != deviceId) refusal = $"The approval is for another device ({approvedDevice}).";
        else if (approvedVersion != secretVersion)
            refusal = "The device has enrolled again since the approval was granted: it holds a fresh code secret, so the approval no longer holds.";
        else if (now >= approval.ExpiresAt) refusal = $"The approval expired at {approval.ExpiresAt:O}.";
        return refusal.Length == 0 ? approval : null;
    }

    private static string Body(TokenType type, Guid deviceId, int count, string approverKeyId, long expiresAt, int secretVersion) =>
        string.Create(CultureInfo.InvariantCulture, $"{Version}.{type}.{deviceId:N}.{count}.{approverKeyId}.{expiresAt}.{secretVersion}");

    // The lender is in the MAC but not the token: the caller's own lender is the only one it can be checked against.
    private byte[] Mac(Guid lenderId, string body) =>
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{lenderId:N}|{body}")));
}
