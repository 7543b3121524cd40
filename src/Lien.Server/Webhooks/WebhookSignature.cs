using System.Security.Cryptography;
using System.Text;

namespace Lien.Server.Webhooks;

/// <summary>
/// Standard Webhooks signing: <c>webhook-signature: v1,{base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}"}</c>
/// under the endpoint's key, given to the lender as <c>whsec_{base64 key}</c>.
/// </summary>
internal static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";
    public const int KeyBytes = 32;

    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(KeyBytes);

    public static string Secret(ReadOnlySpan<byte> key) => SecretPrefix + Convert.ToBase64String(key);

    public static string Sign(ReadOnlySpan<byte> key, string webhookId, long timestamp, string body)
    {
        var signed = Encoding.UTF8.GetBytes(FormattableString.Invariant($"{webhookId}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }
}
