using Lien.Server.AgentApi;

namespace Lien.Server.Tests.AgentApi;

/// <summary>The young-generation collection asked for every so many new streams (<see cref="StreamBursts"/>).</summary>
public sealed class StreamBurstsTests
{
    [Fact]
    public void Opened_EveryNthStream_AsksForOneCollection()
    {
        var collections = 0;
        var bursts = new StreamBursts(3, () => collections++, run: c => c());
        var seen = new List<int>();
        for (var i = 1; i <= 10; i++)
        {
            bursts.Opened();
            seen.Add(collections);
        }
        Assert.Equal([0, 0, 1, 1, 1, 2, 2, 2, 3, 3], seen);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Opened_Off_NeverAsks(int every)
    {
        var collections = 0;
        var bursts = new StreamBursts(every, () => collections++, run: c => c());
        for (var i = 0; i < 10_000; i++) bursts.Opened();
        Assert.Equal(0, collections);
    }

    [Fact]
    public async Task Opened_ByDefault_ReturnsBeforeTheCollectionRuns()
    {
        // The collection waits for Opened to have returned: run inline, it would wait in vain and say so.
        using var returned = new ManualResetEventSlim();
        var collected = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bursts = new StreamBursts(1, () => collected.TrySetResult(returned.Wait(TimeSpan.FromSeconds(10))));
        bursts.Opened();
        returned.Set();
        Assert.True(await collected.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Subscribe_EachStreamCounts_AReconnectionToo()
    {
        var collections = 0;
        var hub = new StreamHub(new LeaseAnnouncements(), new StreamBursts(2, () => collections++, run: c => c()));
        var device = Guid.NewGuid();
        hub.Subscribe(device, 1);
        Assert.Equal(0, collections);
        var again = hub.Subscribe(device, 1); // the same phone reconnecting: a new stream, a new connection's objects
        Assert.Equal(1, collections);
        hub.Unsubscribe(device, again);
        hub.Subscribe(Guid.NewGuid(), 1);
        hub.Subscribe(Guid.NewGuid(), 1);
        Assert.Equal(2, collections);
    }

    [Fact]
    public void Options_ByDefault_EveryTwoThousandStreams() => Assert.Equal(2000, new StreamOptions().CollectEvery);
}
