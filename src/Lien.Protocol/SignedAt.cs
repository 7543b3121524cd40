namespace Lien.Protocol;

/// <summary>
/// How fresh a device's signature must be: the <c>signedAt</c> (unix seconds) of an enrollment or a token renewal lies
/// within <see cref="Window"/> of the server's clock, either way (docs/PROTOCOL.md §1, §2).
/// </summary>
public static class SignedAt
{
    /// <summary>How far <c>signedAt</c> may be from the server's clock, either way.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    /// <summary>True when <paramref name="signedAt"/> is within <see cref="Window"/> of <paramref name="now"/> (any long, no overflow).</summary>
    public static bool IsCurrent(long signedAt, DateTimeOffset now)
    {
        var (seconds, window) = (now.ToUnixTimeSeconds(), (long)Window.TotalSeconds);
        return signedAt >= seconds - window && signedAt <= seconds + window;
    }
}
