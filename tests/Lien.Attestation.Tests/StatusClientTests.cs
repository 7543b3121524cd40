using Microsoft.Extensions.Time.Testing;

namespace Lien.Attestation.Tests;

public sealed class StatusClientTests : IDisposable
{
    private readonly StatusListServer server = new();
    private readonly HttpClient http = new();
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero));
    private readonly CancellationToken ct = TestContext.Current.CancellationToken;

    private AttestationStatusClient Client(TimeSpan refreshInterval) => new(http, server.Address, refreshInterval, clock);

    public void Dispose()
    {
        http.Dispose();
        server.Dispose();
    }

    [Fact]
    public async Task GetAsync_WithinTheRefreshInterval_ServesTheCachedListAndRefreshesWhenDue()
    {
        var client = Client(TimeSpan.FromHours(1));

        server.Serve(StatusListServer.Revoking("00AB12"));
        var first = await client.GetAsync(ct);
        Assert.NotNull(first.List!.Find("ab12"));
        Assert.Equal(clock.GetUtcNow(), first.FetchedAt);

        server.Serve(StatusListServer.Revoking("cd34"));
        clock.Advance(TimeSpan.FromMinutes(59));
        var cached = await client.GetAsync(ct);
        Assert.Same(first.List, cached.List);
        Assert.Equal(1, server.Requests);

        clock.Advance(TimeSpan.FromMinutes(1));
        var refreshed = await client.GetAsync(ct);
        Assert.Null(refreshed.List!.Find("ab12"));
        Assert.NotNull(refreshed.List.Find("CD34"));
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task GetAsync_ManyCallersDuringTheFirstFetch_AllWaitForItAndGetTheList()
    {
        // A server just started, and a factory line's burst arriving before the first fetch has answered.
        var client = Client(TimeSpan.FromHours(1));
        server.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = client.GetAsync(ct);
        while (server.Requests == 0) await Task.Delay(5, ct);
        var burst = Enumerable.Range(0, 10).Select(_ => client.GetAsync(ct)).ToList();
        Assert.All(burst, b => Assert.False(b.IsCompleted));
        server.Hold.SetResult();
        foreach (var state in await Task.WhenAll([first, .. burst])) Assert.NotNull(state.List);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task GetAsync_RefreshFails_KeepsTheLastGoodListAndSaysWhy()
    {
        var client = Client(TimeSpan.FromMinutes(10));
        server.Serve(StatusListServer.Revoking("ab12"));
        var good = await client.GetAsync(ct);

        server.Serve("upstream trouble", 503);
        clock.Advance(TimeSpan.FromMinutes(10));
        var failed = await client.GetAsync(ct);
        Assert.Same(good.List, failed.List);
        Assert.Contains("503", failed.LastError, StringComparison.Ordinal);

        server.Serve("""{"entries": "not an object"}""");
        clock.Advance(TimeSpan.FromMinutes(10));
        var garbled = await client.GetAsync(ct);
        Assert.Same(good.List, garbled.List);
        Assert.Contains("entries", garbled.LastError, StringComparison.Ordinal);
        Assert.Contains("the last refresh failed", garbled.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_NeverFetched_SaysSoAndRetriesWithinAMinute()
    {
        var client = Client(TimeSpan.FromHours(24));
        server.Serve("down", 500);

        var none = await client.GetAsync(ct);
        Assert.Null(none.List);
        Assert.StartsWith("no attestation status list has ever been fetched", none.Describe(), StringComparison.Ordinal);
        Assert.Contains("500", none.Describe(), StringComparison.Ordinal);

        server.Serve(StatusListServer.Revoking("ab12"));
        await client.GetAsync(ct);
        Assert.Equal(1, server.Requests);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.NotNull((await client.GetAsync(ct)).List);
    }

    [Fact]
    public async Task GetAsync_NothingListening_ReportsTheFailureWithoutThrowing()
    {
        var address = server.Address;
        server.Dispose();
        var client = new AttestationStatusClient(http, address, TimeSpan.FromHours(1), TimeProvider.System);
        var state = await client.GetAsync(ct);
        Assert.Null(state.List);
        Assert.NotNull(state.LastError);
    }
}
