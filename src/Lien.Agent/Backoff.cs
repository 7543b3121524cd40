namespace Lien.Agent;

/// <summary>
/// Exponential backoff: <paramref name="initial"/>, doubling to <paramref name="cap"/>, each delay moved by up to
/// ±<paramref name="jitter"/> at random so a fleet that lost the server together does not come back together.
/// </summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan cap, double jitter, Random random)
{
    /// <summary>Check-in after a failure: 30 s doubling to 30 min, ±20 % (PROTOCOL §2).</summary>
    public static Backoff CheckIn(Random random) => new(TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(30), 0.2, random);

    /// <summary>The instant stream after a drop: 1 s doubling to 60 s, ±20 %.</summary>
    public static Backoff Stream(Random random) => new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), 0.2, random);

    private int _failures;

    /// <summary>The delay before the next attempt, after one more failure.</summary>
    public TimeSpan Next()
    {
        // Doubling stops at the cap; the exponent is bounded so it never overflows.
        var doublings = Math.Min(_failures++, 30);
        var nominal = TimeSpan.FromTicks(Math.Min(cap.Ticks, initial.Ticks * (1L << doublings)));
        var factor = 1 + jitter * (2 * random.NextDouble() - 1);
        return nominal * factor;
    }

    /// <summary>A success: the next failure starts again from the initial delay.</summary>
    public void Reset() => _failures = 0;
}
