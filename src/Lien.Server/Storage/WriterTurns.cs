using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Lien.Server.Storage;

/// <summary>
/// Whose turn it is to write the SQLite file: a lock, like a one-slot <see cref="SemaphoreSlim"/>, whose turn is handed to
/// the next waiter by a thread of its own, on which that waiter's code then runs straight away. With a semaphore, the
/// holder that leaves queues the next one's continuation on the thread pool, and on two busy cores the file sat idle
/// about 60 µs per unit of work while that continuation waited behind request work — a sixth of the writer's time under
/// payments (measured in the gate). Here a waiter's code runs on the turn thread until its first real wait, so units that
/// queue run back to back. A holder leaves with <see cref="Leave"/>; code of its after that must not stay on the turn
/// thread (<see cref="OffTheTurnThreadAsync"/>). When nobody holds the turn and nobody waits, a waiter takes it at once,
/// on its own thread. Waiters are served in order. A unit must not complete, inside itself, a task whose continuations run
/// synchronously: they would run on the turn thread and hold up the next turn until they wait (Lien's own completions
/// all run asynchronously; a test's inline ones once left the test runner on a turn thread).
/// </summary>
internal sealed class WriterTurns : IDisposable
{
    /// <summary>Where the time the turn was held and the waits for it are counted, once the host's meters exist.</summary>
    public WriterMetrics? Metrics { get; set; }

    private long _heldSince; // when the holder took the turn (a Stopwatch timestamp), under _sync

    [ThreadStatic] private static bool t_turnThread;

    private readonly object _sync = new(); // Monitor.Wait and Pulse, which System.Threading.Lock has not
    private readonly Queue<(TaskCompletionSource Waiter, long Since)> _queue = new();
    private readonly Queue<(TaskCompletionSource Waiter, long Since)> _ahead = new(); // served before _queue
    private Thread? _thread;
    private bool _held;
    private bool _handOver; // the holder left while others wait: the turn thread gives the turn to the next
    private bool _disposed;

    /// <summary>Whether the caller runs on a turn thread (any writer's): its code after <see cref="Leave"/> must move off it.</summary>
    public static bool OnTurnThread => t_turnThread;

    /// <summary>Whether anyone waits for the turn now (read without the lock: a moment's answer, for a holder deciding to leave).</summary>
    public bool HasWaiters => Volatile.Read(ref _waiters) > 0;

    private int _waiters; // Queued, kept for readers outside the lock

    private int Queued => _queue.Count + _ahead.Count; // under _sync

    /// <summary>
    /// Waits for the turn; the caller holds it when this completes, until it calls <see cref="Leave"/>. One that waits
    /// <paramref name="ahead"/> is served before every ordinary waiter (in order among such ones): for a short write that
    /// the others would otherwise make longer by queueing in front of it (the WAL's restart, which must copy whatever
    /// they wrote meanwhile).
    /// </summary>
    public Task WaitAsync(CancellationToken ct, bool ahead = false)
    {
        ct.ThrowIfCancellationRequested();
        TaskCompletionSource waiter;
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_held && Queued == 0)
            {
                _held = true;
                _heldSince = Stopwatch.GetTimestamp();
                Metrics?.Waited(_heldSince, _heldSince);
                return Task.CompletedTask;
            }
            // Not RunContinuationsAsynchronously: the turn thread runs the waiter's code when it sets this.
            waiter = new TaskCompletionSource();
            (ahead ? _ahead : _queue).Enqueue((waiter, Stopwatch.GetTimestamp()));
            _waiters = Queued;
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "Lien SQLite writer turns" };
                _thread.Start();
            }
        }
        if (!ct.CanBeCanceled) return waiter.Task;
        // A waiter that gives up stays queued; the turn thread skips it (its TrySetResult fails).
        var registration = ct.UnsafeRegister(static (state, token) => ((TaskCompletionSource)state!).TrySetCanceled(token), waiter);
        waiter.Task.ContinueWith(static (_, r) => ((CancellationTokenRegistration)r!).Dispose(), registration, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return waiter.Task;
    }

    /// <summary>Gives the turn up: to the next waiter (by the turn thread), or to nobody.</summary>
    public void Leave()
    {
        lock (_sync)
        {
            if (!_held) throw new SynchronizationLockException("The writer's turn was left by someone who did not hold it.");
            Metrics?.Held(_heldSince, Stopwatch.GetTimestamp());
            if (Queued == 0)
            {
                _held = false;
                return;
            }
            _handOver = true;
            Monitor.Pulse(_sync);
        }
    }

    /// <summary>Moves the caller's code off the turn thread when it is on it (after <see cref="Leave"/>); else goes on as it is.</summary>
    /// <remarks>
    /// An awaiter of its own, not <c>async</c> around <see cref="Task.Yield"/>: there the pool could finish the method
    /// before its caller looked, and the caller would go on, synchronously, on the turn thread (a test caught it).
    /// </remarks>
    public static OffTheTurnThread OffTheTurnThreadAsync() => default;

    /// <summary>Awaited on the turn thread, the code after it runs on the thread pool; elsewhere it goes on at once.</summary>
    internal readonly struct OffTheTurnThread : ICriticalNotifyCompletion
    {
        public OffTheTurnThread GetAwaiter() => this;

        public bool IsCompleted => !t_turnThread;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) => ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: false);

        public void UnsafeOnCompleted(Action continuation) => ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
    }

    private void Run()
    {
        t_turnThread = true;
        while (true)
        {
            lock (_sync)
            {
                while (!_handOver && !_disposed) Monitor.Wait(_sync);
                if (_disposed) return;
                _handOver = false;
            }
            HandOver();
        }
    }

    // To the first waiter still waiting; its code runs here, within TrySetResult, until its first real wait. If it leaves
    // meanwhile (the usual case), _handOver is set again and the loop goes on with the next.
    private void HandOver()
    {
        while (true)
        {
            (TaskCompletionSource Waiter, long Since) next;
            lock (_sync)
            {
                if (Queued == 0)
                {
                    _held = false;
                    return;
                }
                next = _ahead.Count > 0 ? _ahead.Dequeue() : _queue.Dequeue();
                _waiters = Queued;
                _heldSince = Stopwatch.GetTimestamp();
            }
            // A waiter that gave up waited all the same; its turn is passed on at once.
            Metrics?.Waited(next.Since, _heldSince);
            if (next.Waiter.TrySetResult()) return;
        }
    }

    public void Dispose()
    {
        TaskCompletionSource[] waiting;
        lock (_sync)
        {
            if (_disposed) return;
            _disposed = true;
            waiting = [.. _ahead.Select(w => w.Waiter), .. _queue.Select(w => w.Waiter)];
            _ahead.Clear();
            _queue.Clear();
            _waiters = 0;
            Monitor.PulseAll(_sync);
        }
        foreach (var waiter in waiting) waiter.TrySetException(new ObjectDisposedException(nameof(WriterTurns)));
        if (_thread is not null && _thread != Thread.CurrentThread) _thread.Join();
    }
}
