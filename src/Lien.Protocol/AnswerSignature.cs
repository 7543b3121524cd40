using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Lien.Protocol;

/// <summary>
/// The signature on the server's answers (docs/PROTOCOL.md §1, §2): a detached JWS (RFC 7515 Appendix F) over the
/// exact response body, in the header <c>Lien-Signature: &lt;protected&gt;..&lt;signature&gt;</c>. The enrollment answer is
/// ES256 by the lender's active key; the check-in answer HS256 under the device's answer key (<c>kid</c> <c>answer</c>).
/// The protected header's <c>typ</c> is <c>lien-answer</c>, so no answer signature can pass for a lease or a key set.
/// </summary>
public static class AnswerSignature
{
    /// <summary>The response header that carries the signature.</summary>
    public const string HeaderName = "Lien-Signature";

    /// <summary>The protected header's <c>typ</c>.</summary>
    public const string MediaType = "lien-answer";

    /// <summary>The <c>kid</c> of an HS256 check-in answer signature: the device's answer key.</summary>
    public const string AnswerKeyId = "answer";

    /// <summary>The answer key's length in bytes.</summary>
    public const int AnswerKeyBytes = 32;

    private const int MaxBody = 256 * 1024;
    private static readonly byte[] Hs256Header = Encoding.ASCII.GetBytes(
        Base64Url.EncodeToString("""{"alg":"HS256","kid":"answer","typ":"lien-answer"}"""u8));

    /// <summary>The ES256 detached signature of <paramref name="body"/> by <paramref name="key"/> (the lender's active key).</summary>
    public static string SignEs256(ReadOnlySpan<byte> body, ECDsa key, string kid)
    {
        var parts = Jws.Sign(body, key, kid, MediaType).Split('.');
        return $"{parts[0]}..{parts[2]}";
    }

    /// <summary>
    /// Checks an ES256 detached signature: <paramref name="keyFor"/> maps its kid to a key (null: not trusted). Null
    /// when it verifies; otherwise why not.
    /// </summary>
    public static string? VerifyEs256(string? signature, ReadOnlySpan<byte> body, Func<string, ECDsa?> keyFor)
    {
        if (!TrySplit(signature, body, out var protectedPart, out var signaturePart)) return "no signature, or not '<protected>..<signature>'";
        var result = Jws.Verify($"{protectedPart}.{Base64Url.EncodeToString(body)}.{signaturePart}", keyFor, MediaType, 2 * MaxBody);
        return result.Valid ? null : result.Reason;
    }

    /// <summary>The HS256 detached signature of <paramref name="body"/> under <paramref name="answerKey"/>. The server's check-in path: allocates only the header text.</summary>
    public static string SignHs256(ReadOnlySpan<byte> body, ReadOnlySpan<byte> answerKey)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Hs256(Hs256Header, body, answerKey, mac);
        return string.Create(Hs256Header.Length + 2 + Base64Url.GetEncodedLength(mac.Length), mac.ToArray(), static (chars, m) =>
        {
            Encoding.ASCII.GetChars(Hs256Header, chars);
            chars[Hs256Header.Length] = '.';
            chars[Hs256Header.Length + 1] = '.';
            Base64Url.EncodeToChars(m, chars[(Hs256Header.Length + 2)..]);
        });
    }

    /// <summary>Checks an HS256 detached signature under <paramref name="answerKey"/>. Null when it verifies; otherwise why not.</summary>
    public static string? VerifyHs256(string? signature, ReadOnlySpan<byte> body, ReadOnlySpan<byte> answerKey)
    {
        if (!TrySplit(signature, body, out var protectedPart, out var signaturePart)) return "no signature, or not '<protected>..<signature>'";
        Header? header;
        byte[] given;
        try
        {
            var headerBytes = Base64Url.DecodeFromChars(protectedPart);
            if (Base64Url.EncodeToString(headerBytes) != protectedPart) return "malformed: non-canonical base64url";
            header = JsonSerializer.Deserialize<Header>(headerBytes, LeaseClaims.Json);
            given = Base64Url.DecodeFromChars(signaturePart);
            if (Base64Url.EncodeToString(given) != signaturePart) return "malformed: non-canonical base64url";
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return "malformed: bad base64url or header JSON";
        }
        if (header is not { Alg: "HS256", Kid: AnswerKeyId, Typ: MediaType }) return "the header is not HS256, kid 'answer', typ 'lien-answer'";
        if (given.Length != HMACSHA256.HashSizeInBytes) return "bad signature length";
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Hs256(Encoding.ASCII.GetBytes(protectedPart), body, answerKey, expected);
        return CryptographicOperations.FixedTimeEquals(given, expected) ? null : "bad signature";
    }

    [ThreadStatic] private static IncrementalHash? t_sha256;

    // HMAC-SHA256 (RFC 2104) over the JWS signing input ASCII(protected || '.' || BASE64URL(body)), on one SHA-256
    // context per thread, reused: every check-in answer is signed under a key of its own, and a one-shot HMAC sets up a
    // new native context each call, which cost more than hashing the answer. Equal to HMACSHA256.HashData (tested).
    private static void Hs256(ReadOnlySpan<byte> protectedPart, ReadOnlySpan<byte> body, ReadOnlySpan<byte> key, Span<byte> mac)
    {
        const int block = 64;
        Span<byte> pad = stackalloc byte[block];
        pad.Clear();
        if (key.Length > block) SHA256.HashData(key, pad);
        else key.CopyTo(pad);
        for (var i = 0; i < block; i++) pad[i] ^= 0x36;
        var sha = t_sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(pad);
        sha.AppendData(protectedPart);
        sha.AppendData("."u8);
        Span<byte> chunk = stackalloc byte[1024]; // the base64url of 768 body bytes
        for (var at = 0; at < body.Length; at += 768)
        {
            var part = body.Slice(at, Math.Min(768, body.Length - at));
            Base64Url.EncodeToUtf8(part, chunk, out _, out var written);
            sha.AppendData(chunk[..written]);
        }
        Span<byte> inner = stackalloc byte[HMACSHA256.HashSizeInBytes];
        sha.GetHashAndReset(inner);
        for (var i = 0; i < block; i++) pad[i] ^= 0x36 ^ 0x5c;
        sha.AppendData(pad);
        sha.AppendData(inner);
        sha.GetHashAndReset(mac);
    }

    private static bool TrySplit(string? signature, ReadOnlySpan<byte> body, out string protectedPart, out string signaturePart)
    {
        (protectedPart, signaturePart) = ("", "");
        if (signature is null || signature.Length > 4096 || body.Length > MaxBody) return false;
        var at = signature.IndexOf("..", StringComparison.Ordinal);
        if (at <= 0 || signature.IndexOf('.', at + 2) >= 0) return false;
        (protectedPart, signaturePart) = (signature[..at], signature[(at + 2)..]);
        return signaturePart.Length > 0;
    }

    private sealed record Header(string? Alg, string? Kid, string? Typ);
}
