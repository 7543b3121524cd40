namespace Lien.Agent;

/// <summary>The device's two clocks. On Android: <c>System.currentTimeMillis()</c> and <c>SystemClock.elapsedRealtime()</c>.</summary>
public interface IDeviceClock
{
    /// <summary>The wall clock: the user or the network can set it.</summary>
    DateTimeOffset Wall { get; }

    /// <summary>Monotonic time since boot, including deep sleep; cannot be set; restarts at zero on reboot.</summary>
    TimeSpan Elapsed { get; }

    /// <summary>Both, read together.</summary>
    DeviceTime Now => new(Wall, Elapsed);
}

/// <summary>The clocks of the machine the agent runs on, through a <see cref="TimeProvider"/> (monotonic part: its timestamps).</summary>
public sealed class SystemDeviceClock(TimeProvider time) : IDeviceClock
{
    private readonly long _boot = time.GetTimestamp();

    public DateTimeOffset Wall => time.GetUtcNow();

    public TimeSpan Elapsed => time.GetElapsedTime(_boot);
}
