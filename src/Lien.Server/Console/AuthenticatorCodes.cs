using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;

namespace Lien.Server.Console;

/// <summary>
/// Authenticator-app codes (TOTP, RFC 6238: HMAC-SHA1, 30-second steps, 6 digits, one step either side), on the
/// server's <see cref="TimeProvider"/> — Identity's own provider reads the system clock, which tests cannot move. A code
/// is accepted once: the step it matched is remembered on the user (Identity's token store), so a code read over a
/// shoulder cannot be used again.
/// </summary>
internal sealed class AuthenticatorCodes(TimeProvider time) : IUserTwoFactorTokenProvider<ConsoleUser>
{
    public const string ProviderName = "LienAuthenticator";
    private const string LastStepToken = "AuthenticatorLastStep";

    public async Task<bool> CanGenerateTwoFactorTokenAsync(UserManager<ConsoleUser> manager, ConsoleUser user) =>
        !string.IsNullOrWhiteSpace(await manager.GetAuthenticatorKeyAsync(user));

    public Task<string> GenerateAsync(string purpose, UserManager<ConsoleUser> manager, ConsoleUser user) =>
        Task.FromResult(""); // the code comes from the user's app, never from the server

    public async Task<bool> ValidateAsync(string purpose, string token, UserManager<ConsoleUser> manager, ConsoleUser user)
    {
        if (token.Length != 6 || !token.All(char.IsAsciiDigit)) return false;
        if (await manager.GetAuthenticatorKeyAsync(user) is not { } key || Base32Decode(key) is not { } secret) return false;
        var step = time.GetUtcNow().ToUnixTimeSeconds() / 30;
        var last = long.TryParse(await manager.GetAuthenticationTokenAsync(user, ProviderName, LastStepToken), CultureInfo.InvariantCulture, out var l) ? l : 0;
        for (var s = step - 1; s <= step + 1; s++)
        {
            if (s <= last || !CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(Code(secret, s)), System.Text.Encoding.ASCII.GetBytes(token))) continue;
            await manager.SetAuthenticationTokenAsync(user, ProviderName, LastStepToken, s.ToString(CultureInfo.InvariantCulture));
            return true;
        }
        return false;
    }

    /// <summary>The code for time step <paramref name="step"/> (RFC 4226 dynamic truncation).</summary>
    public static string Code(byte[] secret, long step)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        var hash = HMACSHA1.HashData(secret, counter);
        var offset = hash[^1] & 0x0F;
        var value = (BinaryPrimitives.ReadInt32BigEndian(hash.AsSpan(offset)) & 0x7FFFFFFF) % 1_000_000;
        return value.ToString("D6", CultureInfo.InvariantCulture);
    }

    /// <summary>The key as Identity stores it (RFC 4648 base32, no padding), or null when it is not base32.</summary>
    public static byte[]? Base32Decode(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>(text.Length * 5 / 8);
        int buffer = 0, bits = 0;
        foreach (var c in text.TrimEnd('='))
        {
            var v = alphabet.IndexOf(char.ToUpperInvariant(c));
            if (v < 0) return null;
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits < 8) continue;
            bytes.Add((byte)(buffer >> (bits - 8)));
            bits -= 8;
        }
        return [.. bytes];
    }
}
