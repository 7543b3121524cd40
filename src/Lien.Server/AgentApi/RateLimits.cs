using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Lien.Server.AgentApi;

/// <summary>What a rate limit counts.</summary>
internal enum RateLimitPolicy
{
    /// <summary>Enrollments naming an IMEI.</summary>
    EnrollPerImei,
    /// <summary>Enrollments from one client address (an IPv6 address counts by its /64).</summary>
    EnrollPerAddress,
    /// <summary>Enrollment challenges issued to one client address.</summary>
    ChallengePerAddress,
    /// <summary>Token renewals of one device.</summary>
    RenewPerDevice,
    /// <summary>Check-ins, acks and stream connections of one device, together.</summary>
    DevicePerDevice,
    /// <summary>Public lookups from one client address (lien checks and payoff certificates, API and pages together).</summary>
    PublicPerAddress,
    /// <summary>Borrower pay pages from one client address (reading, paying, following a payment, codes, disputes together).</summary>
    PayPagePerAddress,
    /// <summary>Borrower requests by phone number (USSD sessions' steps and SMS keywords together).</summary>
    ShortCodePerPhone,
}

/// <summary>One limit: at most <see cref="Limit"/> requests in any <see cref="Window"/> (all of them at once, then evenly).</summary>
internal sealed class RateLimit
{
    public int Limit { get; set; }
    public TimeSpan Window { get; set; }
}

/// <summary>The device API's rate limits (<c>Lien:RateLimits:{Policy}:Limit</c> and <c>…:Window</c>).</summary>
internal sealed class RateLimitOptions
{
    public RateLimit EnrollPerImei { get; set; } = new() { Limit = 10, Window = TimeSpan.FromHours(1) };

    // A factory line or a shop enrolls its phones in bursts from one address: generous, and a setting.
    public RateLimit EnrollPerAddress { get; set; } = new() { Limit = 1000, Window = TimeSpan.FromHours(1) };
    public RateLimit ChallengePerAddress { get; set; } = new() { Limit = 2000, Window = TimeSpan.FromHours(1) };
    public RateLimit RenewPerDevice { get; set; } = new() { Limit = 10, Window = TimeSpan.FromHours(1) };

    // Normal life is a check-in every 15 min to 6 h, an ack per lease and a stream reconnecting with backoff.
    public RateLimit DevicePerDevice { get; set; } = new() { Limit = 120, Window = TimeSpan.FromMinutes(10) };

    // A buyer checks a phone or two; a second-hand shop a few dozen a day. Enough to stop walking the IMEI space.
    public RateLimit PublicPerAddress { get; set; } = new() { Limit = 60, Window = TimeSpan.FromHours(1) };

    // A payment followed to the end refreshes its page every few seconds for minutes; a shared phone serves a family.
    public RateLimit PayPagePerAddress { get; set; } = new() { Limit = 300, Window = TimeSpan.FromHours(1) };

    // A USSD session is a few steps; a borrower dials a few times a day at most.
    public RateLimit ShortCodePerPhone { get; set; } = new() { Limit = 60, Window = TimeSpan.FromHours(1) };

    public RateLimit For(RateLimitPolicy policy) => policy switch
    {
        RateLimitPolicy.PayPagePerAddress => PayPagePerAddress,
        RateLimitPolicy.ShortCodePerPhone => ShortCodePerPhone,
        RateLimitPolicy.EnrollPerImei => EnrollPerImei,
        RateLimitPolicy.EnrollPerAddress => EnrollPerAddress,
        RateLimitPolicy.ChallengePerAddress => ChallengePerAddress,
        RateLimitPolicy.RenewPerDevice => RenewPerDevice,
        RateLimitPolicy.DevicePerDevice => DevicePerDevice,
        RateLimitPolicy.PublicPerAddress => PublicPerAddress,
        _ => throw new ArgumentOutOfRangeException(nameof(policy)),
    };
}

/// <summary>
/// The device API's rate limits, in memory fixed whatever the fleet's size: per policy, a table of GCRA arrival times
/// (one <c>long</c> a slot) that keys hash into twice, with a per-process random seed; a key's time is the lesser of
/// its two slots (a count-min sketch), so keys sharing a slot only ever make each other's limit earlier, never later,
/// and two keys must collide in both slots to share one. A slot matters only while its time is ahead of the clock —
/// for a device, seconds after a request — so collisions need two busy keys at once. Lock-free, no allocation and no
/// timer: the check-in path pays two hashes and two compare-exchanges. Per node; several nodes each allow the limit.
/// </summary>
internal sealed class RateLimits
{
    private readonly TimeProvider _time;
    private readonly Table[] _tables;

    public RateLimits(TimeProvider time, IOptions<RateLimitOptions> options)
    {
        _time = time;
        var o = options.Value;
        _tables = Enum.GetValues<RateLimitPolicy>().Select(p => new Table(o.For(p), p switch
        {
            RateLimitPolicy.DevicePerDevice => 20, // 8 MB: every device is here several times an hour
            RateLimitPolicy.EnrollPerImei or RateLimitPolicy.RenewPerDevice => 18, // 2 MB each
            _ => 16, // 512 KB each: client addresses
        })).ToArray();
    }

    /// <summary>Takes one request of <paramref name="policy"/> for <paramref name="key"/>; false with the wait until the next is allowed.</summary>
    public bool TryAcquire(RateLimitPolicy policy, ReadOnlySpan<byte> key, out TimeSpan retryAfter) =>
        _tables[(int)policy].TryAcquire(key, _time.GetUtcNow().UtcTicks, out retryAfter);

    public bool TryAcquire(RateLimitPolicy policy, Guid key, out TimeSpan retryAfter)
    {
        Span<byte> bytes = stackalloc byte[16];
        key.TryWriteBytes(bytes);
        return TryAcquire(policy, bytes, out retryAfter);
    }

    public bool TryAcquire(RateLimitPolicy policy, string key, out TimeSpan retryAfter) =>
        TryAcquire(policy, MemoryMarshal.AsBytes(key.AsSpan()), out retryAfter);

    /// <summary>By client address: IPv4 whole; IPv6 by its /64, what one subscriber is usually given.</summary>
    public bool TryAcquire(RateLimitPolicy policy, IPAddress? address, out TimeSpan retryAfter)
    {
        Span<byte> bytes = stackalloc byte[16];
        var length = 0;
        if (address is not null)
        {
            if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            address.TryWriteBytes(bytes, out length);
            if (address.AddressFamily == AddressFamily.InterNetworkV6) length = 8;
        }
        return TryAcquire(policy, bytes[..length], out retryAfter);
    }

    /// <summary>The 429 problem, with <c>Retry-After</c> in whole seconds (rounded up).</summary>
    public static ProblemHttpResult TooMany(HttpResponse response, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: 429, type: "https://lien.dev/problems/rate-limited", title: "Too many requests",
            detail: $"Too many requests; try again in {seconds} s (Retry-After).");
    }

    private sealed class Table(RateLimit limit, int log2)
    {
        private readonly long[] _arrival = new long[1 << log2];
        private readonly int _mask = (1 << log2) - 1;
        private readonly int _seed = Random.Shared.Next();
        // GCRA: each request moves the key's arrival time one interval on; up to Limit at once are let through.
        private readonly long _interval = Math.Max(1, limit.Window.Ticks / Math.Max(1, limit.Limit));
        private readonly long _tolerance = limit.Window.Ticks - Math.Max(1, limit.Window.Ticks / Math.Max(1, limit.Limit));
        private readonly bool _off = limit.Limit <= 0 || limit.Window <= TimeSpan.Zero;

        public bool TryAcquire(ReadOnlySpan<byte> key, long now, out TimeSpan retryAfter)
        {
            retryAfter = TimeSpan.Zero;
            if (_off) return true;
            var h = new HashCode();
            h.Add(_seed);
            h.AddBytes(key);
            var first = h.ToHashCode();
            var second = HashCode.Combine(first, _seed ^ 0x5bd1e995);
            ref var a = ref _arrival[first & _mask];
            ref var b = ref _arrival[second & _mask];
            var arrival = Math.Max(Math.Min(Volatile.Read(ref a), Volatile.Read(ref b)), now);
            if (arrival - now > _tolerance)
            {
                retryAfter = TimeSpan.FromTicks(arrival - now - _tolerance);
                return false;
            }
            RaiseTo(ref a, arrival + _interval);
            RaiseTo(ref b, arrival + _interval);
            return true;
        }

        private static void RaiseTo(ref long slot, long value)
        {
            long seen;
            while ((seen = Volatile.Read(ref slot)) < value && Interlocked.CompareExchange(ref slot, value, seen) != seen) { }
        }
    }
}

/// <summary>Rate limits on endpoints, by client address.</summary>
internal static class RateLimitEndpoints
{
    /// <summary>Answers 429 (with <c>Retry-After</c>) once the client's address has used up <paramref name="policy"/>.</summary>
    public static TBuilder RateLimitedByAddress<TBuilder>(this TBuilder builder, RateLimitPolicy policy) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            return http.RequestServices.GetRequiredService<RateLimits>().TryAcquire(policy, http.Connection.RemoteIpAddress, out var retryAfter)
                ? await next(context)
                : RateLimits.TooMany(http.Response, retryAfter);
        });
}
