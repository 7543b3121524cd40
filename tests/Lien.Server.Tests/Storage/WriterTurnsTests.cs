using Lien.Server.Storage;

namespace Lien.Server.Tests.Storage;

/// <summary>
/// The SQLite writer's turns: one holder at a time, waiters in order, the next waiter's code run on the turn thread as soon
/// as the holder leaves, a waiter that gives up skipped.
/// </summary>
public sealed class WriterTurnsTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public Task FreeTurn_TakenAtOnceOnTheCallersThread_TheNextWaiterRunsOnTheTurnThreadWhenItIsLeft() => OnAPoolThreadAsync(async () =>
    {
        using var turns = new WriterTurns();
        var first = turns.WaitAsync(CancellationToken.None);
        Assert.True(first.IsCompletedSuccessfully);
        Assert.False(WriterTurns.OnTurnThread);

        var ranOnTurnThread = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = WaitThenAsync(turns, () => ranOnTurnThread.SetResult(WriterTurns.OnTurnThread));
        Assert.False(second.IsCompleted);
        turns.Leave();
        Assert.True(await ranOnTurnThread.Task.WaitAsync(Long));
        await second.WaitAsync(Long);
    });

    [Fact]
    public Task ManyWaiters_OneHolderAtATime_ServedInTheOrderTheyCame_EvenWhenAHolderWaitsForRealWhileHoldingIt() => OnAPoolThreadAsync(async () =>
    {
        using var turns = new WriterTurns();
        await turns.WaitAsync(CancellationToken.None);
        var inside = 0;
        var overlaps = 0;
        var order = new List<int>();
        var waiters = Enumerable.Range(0, 200).Select(i => WaitThenAsync(turns, async () =>
        {
            if (Interlocked.Increment(ref inside) != 1) Interlocked.Increment(ref overlaps);
            order.Add(i); // only the holder writes it
            if (i % 7 == 0) await Task.Delay(1); // a real wait while holding: the turn thread must not hand the turn on
            Interlocked.Decrement(ref inside);
        })).ToArray();
        turns.Leave();
        await Task.WhenAll(waiters).WaitAsync(Long);
        Assert.Equal(0, overlaps);
        Assert.Equal(Enumerable.Range(0, 200), order);
        // And the turn is free again: taken at once.
        Assert.True(turns.WaitAsync(CancellationToken.None).IsCompletedSuccessfully);
    });

    [Fact]
    public Task WaitersAhead_ServedBeforeThoseAlreadyWaiting_InTheirOwnOrder() => OnAPoolThreadAsync(async () =>
    {
        using var turns = new WriterTurns();
        await turns.WaitAsync(CancellationToken.None);
        var order = new List<string>();
        var waiters = new List<Task>();
        for (var i = 0; i < 5; i++)
        {
            var name = "unit " + i;
            waiters.Add(WaitThenAsync(turns, () => order.Add(name)));
        }
        waiters.Add(WaitThenAsync(turns, () => order.Add("restart"), ahead: true));
        waiters.Add(WaitThenAsync(turns, () => order.Add("unit 5")));
        waiters.Add(WaitThenAsync(turns, () => order.Add("truncate"), ahead: true));
        Assert.True(turns.HasWaiters);
        turns.Leave();
        await Task.WhenAll(waiters).WaitAsync(Long);
        Assert.Equal(["restart", "truncate", "unit 0", "unit 1", "unit 2", "unit 3", "unit 4", "unit 5"], order);
        Assert.False(turns.HasWaiters);
        Assert.True(turns.WaitAsync(CancellationToken.None).IsCompletedSuccessfully);
    });

    [Fact]
    public async Task WaiterThatGivesUp_IsCancelledAndSkipped_TheOneBehindItGetsTheTurn()
    {
        using var turns = new WriterTurns();
        await turns.WaitAsync(CancellationToken.None);
        using var giveUp = new CancellationTokenSource();
        var cancelled = turns.WaitAsync(giveUp.Token);
        var behind = turns.WaitAsync(CancellationToken.None);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Long));
        Assert.False(behind.IsCompleted);
        turns.Leave();
        await behind.WaitAsync(Long);
        turns.Leave();
        Assert.True(turns.WaitAsync(CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task CodeAfterLeaving_MovedOffTheTurnThread()
    {
        using var turns = new WriterTurns();
        await turns.WaitAsync(CancellationToken.None);
        // Started on a thread with no synchronization context; it has begun awaiting its turn when Task.Run's lambda returns.
        var after = await Task.Run(() => Task.FromResult(HoldThenLeaveAsync()));
        turns.Leave();
        var (heldOnTurnThread, afterOnTurnThread) = await after.WaitAsync(Long);
        Assert.True(heldOnTurnThread);
        Assert.False(afterOnTurnThread);

        async Task<(bool Held, bool After)> HoldThenLeaveAsync()
        {
            await turns.WaitAsync(CancellationToken.None);
            var held = WriterTurns.OnTurnThread;
            turns.Leave();
            await WriterTurns.OffTheTurnThreadAsync();
            return (held, WriterTurns.OnTurnThread);
        }
    }

    [Fact]
    public async Task LeftByNobodyHoldingIt_Throws_AndDisposalFailsTheWaiters()
    {
        var turns = new WriterTurns();
        Assert.Throws<SynchronizationLockException>(turns.Leave);
        await turns.WaitAsync(CancellationToken.None);
        var waiting = turns.WaitAsync(CancellationToken.None);
        turns.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.WaitAsync(Long));
        Assert.Throws<ObjectDisposedException>(() => { _ = turns.WaitAsync(CancellationToken.None); }); // thrown by the call, not by its task
    }

    // A test's own thread may be another writer's turn thread (a test before it completed something inside a unit, and
    // the runner went on there): these tests start on a thread-pool thread with no synchronization context.
    private static Task OnAPoolThreadAsync(Func<Task> test) => Task.Run(test);

    private static Task WaitThenAsync(WriterTurns turns, Action held, bool ahead = false) => WaitThenAsync(turns, () =>
    {
        held();
        return Task.CompletedTask;
    }, ahead);

    private static async Task WaitThenAsync(WriterTurns turns, Func<Task> held, bool ahead = false)
    {
        await turns.WaitAsync(CancellationToken.None, ahead);
        try
        {
            await held();
        }
        finally
        {
            turns.Leave();
        }
        await WriterTurns.OffTheTurnThreadAsync();
    }
}
