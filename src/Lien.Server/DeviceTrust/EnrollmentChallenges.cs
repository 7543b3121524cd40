using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using Lien.Protocol;
using Lien.Server.Storage;

namespace Lien.Server.DeviceTrust;

/// <summary>
/// Enrollment challenges: 40 bytes, base64url — a version byte, the expiry (unix seconds, 8 bytes big-endian), 15 random
/// bytes and a 16-byte HMAC of those under a key derived from the master key. Any node can issue and check one without
/// a database round trip; single use is enforced when an enrollment spends it (<see cref="SpentChallenge"/>).
/// The challenge goes into the device key's attestation (Android's <c>setAttestationChallenge</c>) and into the signed
/// enrollment, so an attestation made for another enrollment, or a captured request, cannot be presented again.
/// </summary>
internal sealed class EnrollmentChallenges(SecretBox box, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private const byte Version = 1;
    private const int Bytes = 40, MacBytes = 16, SignedBytes = Bytes - MacBytes;

    private readonly byte[] _key = box.DeriveKey("enrollment-challenge");
    private long _lastSweep = time.GetUtcNow().UtcTicks;

    /// <summary>True at most once per <see cref="Lifetime"/>: time for an enrollment to clear the expired spent challenges.</summary>
    public bool SweepDue(DateTimeOffset now)
    {
        var swept = Interlocked.Read(ref _lastSweep);
        return now.UtcTicks - swept >= Lifetime.Ticks && Interlocked.CompareExchange(ref _lastSweep, now.UtcTicks, swept) == swept;
    }

    public EnrollmentChallenge Issue()
    {
        var now = time.GetUtcNow();
        var expires = DateTimeOffset.FromUnixTimeSeconds((now + Lifetime).ToUnixTimeSeconds());
        Span<byte> c = stackalloc byte[Bytes];
        c[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(c[1..9], expires.ToUnixTimeSeconds());
        RandomNumberGenerator.Fill(c[9..SignedBytes]);
        HMACSHA256.HashData(_key, c[..SignedBytes])[..MacBytes].CopyTo(c[SignedBytes..]);
        return new EnrollmentChallenge(Base64Url.EncodeToString(c), expires, now);
    }

    /// <summary>What a presented challenge is: genuine and current (with its bytes and expiry), or why not.</summary>
    public readonly record struct Reading(byte[]? Bytes, DateTimeOffset ExpiresAt, string? Problem);

    public Reading Read(string? challenge)
    {
        if (challenge is not { Length: > 0 and <= 64 } || !Base64Url.IsValid(challenge, out var length) || length != Bytes)
            return new(null, default, "challenge must be the base64url challenge from POST /v1/device/enroll/challenge.");
        var c = Base64Url.DecodeFromChars(challenge);
        var expected = HMACSHA256.HashData(_key, c.AsSpan(0, SignedBytes));
        if (c[0] != Version || !CryptographicOperations.FixedTimeEquals(expected.AsSpan(0, MacBytes), c.AsSpan(SignedBytes)))
            return new(null, default, "challenge was not issued by this server.");
        var expires = DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadInt64BigEndian(c.AsSpan(1, 8)));
        return expires <= time.GetUtcNow()
            ? new(null, expires, "challenge has expired; ask for a new one (they last 10 minutes).")
            : new(c, expires, null);
    }
}
