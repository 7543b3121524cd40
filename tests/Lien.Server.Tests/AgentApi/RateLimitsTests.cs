using Lien.Server.AgentApi;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Lien.Server.Tests.AgentApi;

/// <summary>The hashed GCRA limiter itself, on a clock the test moves.</summary>
public sealed class RateLimitsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));

    private RateLimits Limits(int limit, TimeSpan window) => new(_time, Options.Create(new RateLimitOptions
    {
        DevicePerDevice = new RateLimit { Limit = limit, Window = window },
    }));

    [Fact]
    public void TryAcquire_LimitAtOnce_ThenOneEveryIntervalAndTheWaitSaid()
    {
        var limits = Limits(6, TimeSpan.FromMinutes(1));
        var device = Guid.NewGuid();
        for (var i = 0; i < 6; i++) Assert.True(limits.TryAcquire(RateLimitPolicy.DevicePerDevice, device, out _));
        Assert.False(limits.TryAcquire(RateLimitPolicy.DevicePerDevice, device, out var wait));
        Assert.Equal(TimeSpan.FromSeconds(10), wait);
        Assert.True(limits.TryAcquire(RateLimitPolicy.DevicePerDevice, Guid.NewGuid(), out _)); // another device is not held up

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(limits.TryAcquire(RateLimitPolicy.DevicePerDevice, device, out wait));
        Assert.Equal(TimeSpan.FromSeconds(1), wait);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(limits.TryAcquire(RateLimitPolicy.DevicePerDevice, device, out _));
        Assert.False(limits.TryAcquire(RateLimitPolicy.DevicePerDevice, device, out _));
        _time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < 6; i++) Assert.True(limits.TryAcquire(RateLimitPolicy.DevicePerDevice, device, out _));
    }

    [Fact]
    public void TryAcquire_AMillionDevicesInTheSameSecond_NoneRefusedByAnother()
    {
        // Fixed memory: a million keys share the table, and keys sharing a slot must not stop each other at the default.
        var limits = new RateLimits(_time, Options.Create(new RateLimitOptions()));
        var refused = 0;
        Span<byte> key = stackalloc byte[16];
        for (var i = 0; i < 1_000_000; i++)
        {
            BitConverter.TryWriteBytes(key, i);
            if (!limits.TryAcquire(RateLimitPolicy.DevicePerDevice, key, out _)) refused++;
        }
        Assert.Equal(0, refused);
    }

    [Fact]
    public void TryAcquire_ByAddress_AnIPv6SubscriberCountsByItsSlash64()
    {
        var limits = new RateLimits(_time, Options.Create(new RateLimitOptions { EnrollPerAddress = new RateLimit { Limit = 2, Window = TimeSpan.FromHours(1) } }));
        Assert.True(limits.TryAcquire(RateLimitPolicy.EnrollPerAddress, System.Net.IPAddress.Parse("2001:db8:1:2::1"), out _));
        Assert.True(limits.TryAcquire(RateLimitPolicy.EnrollPerAddress, System.Net.IPAddress.Parse("2001:db8:1:2:ffff::9"), out _));
        Assert.False(limits.TryAcquire(RateLimitPolicy.EnrollPerAddress, System.Net.IPAddress.Parse("2001:db8:1:2::77"), out _));
        Assert.True(limits.TryAcquire(RateLimitPolicy.EnrollPerAddress, System.Net.IPAddress.Parse("2001:db8:1:3::1"), out _));
        Assert.True(limits.TryAcquire(RateLimitPolicy.EnrollPerAddress, System.Net.IPAddress.Parse("192.0.2.1"), out _));
        Assert.True(limits.TryAcquire(RateLimitPolicy.EnrollPerAddress, System.Net.IPAddress.Parse("::ffff:192.0.2.1"), out _));
        Assert.False(limits.TryAcquire(RateLimitPolicy.EnrollPerAddress, System.Net.IPAddress.Parse("192.0.2.1"), out _));
    }
}
