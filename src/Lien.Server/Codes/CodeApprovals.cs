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
/// <c>ca1.{type}.{device}.{count}.{approver key}.{expiry}.{mac}</c>, the MAC an HMAC-SHA256 under a key derived from the
/// master key over those fields, the lender and the device's code secret version. It is good for 15 minutes and for one
/// code: the device's count moves on when a code is issued, and a re-enrollment (which starts the count again under a
/// fresh secret) voids it. Whether the approver may approve (an admin, not the issuer) is the caller's to check.
/// </summary>
internal sealed class CodeApprovals(SecretBox box)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);
    private const string Version = "ca1";
    private const int MaxLength = 200;
    private readonly byte[] _key = box.DeriveKey("code-approval");

    public string Grant(Guid lenderId, int secretVersion, TokenType type, CodeApproval approval)
    {
        var body = Body(type, approval.DeviceId, approval.Count, approval.ApproverKeyId, approval.ExpiresAt.ToUnixTimeSeconds());
        return $"{body}.{Base64Url.EncodeToString(Mac(lenderId, secretVersion, body))}";
    }

    /// <summary>The approval a token carries, or null with <paramref name="refusal"/> saying why it does not hold here and now.</summary>
    public CodeApproval? Check(string token, Guid lenderId, int secretVersion, Guid deviceId, TokenType type, DateTimeOffset now, out string refusal)
    {
        refusal = "";
        // The MAC covers the body exactly as written, so a token has one spelling: nothing is parsed before it holds.
        var dot = token.Length <= MaxLength ? token.LastIndexOf('.') : -1;
        var parts = dot > 0 && CryptographicOperations.FixedTimeEquals(
                Encoding.ASCII.GetBytes(token[(dot + 1)..]), Encoding.ASCII.GetBytes(Base64Url.EncodeToString(Mac(lenderId, secretVersion, token[..dot]))))
            ? token[..dot].Split('.')
            : [];
        if (parts is not [Version, var typeName, var device, var count, var keyId, var expiry]
            || typeName != type.ToString()
            || !Guid.TryParseExact(device, "N", out var approvedDevice)
            || !int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var approvedCount)
            || !long.TryParse(expiry, NumberStyles.None, CultureInfo.InvariantCulture, out var expiresAt)
            || expiresAt > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            refusal = $"The approval is not one this server granted for a {type} code of this lender (or the device has enrolled again since).";
            return null;
        }
        var approval = new CodeApproval(approvedDevice, approvedCount, keyId, DateTimeOffset.FromUnixTimeSeconds(expiresAt));
        if (approvedDevice != deviceId) refusal = $"The approval is for another device ({approvedDevice}).";
        else if (now >= approval.ExpiresAt) refusal = $"The approval expired at {approval.ExpiresAt:O}.";
        return refusal.Length == 0 ? approval : null;
    }

    private static string Body(TokenType type, Guid deviceId, int count, string approverKeyId, long expiresAt) =>
        string.Create(CultureInfo.InvariantCulture, $"{Version}.{type}.{deviceId:N}.{count}.{approverKeyId}.{expiresAt}");

    // The lender and the secret version are in the MAC but not the token: the caller's own lender and the device's current
    // secret are the only ones it can be checked against, and counts start again under each secret.
    private byte[] Mac(Guid lenderId, int secretVersion, string body) =>
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{lenderId:N}|{secretVersion}|{body}")));
}
