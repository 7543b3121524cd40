using System.Collections.Concurrent;
using System.Data;
using System.Threading.Tasks.Sources;
using Lien.Protocol;
using Microsoft.Data.Sqlite;

namespace Lien.Server.AgentApi;

/// <summary>
/// The device API's SQLite reads (<see cref="CheckInReader"/>: check-ins, acks, streams) on a few threads of their own,
/// each with one read-only connection and the prepared statement. SQLite calls are synchronous: run on the request's
/// thread, each would hold a thread-pool thread for its whole call, and under load the pool would either starve (it adds
/// a thread only every half second) or, kept large, run more ready threads than there are cores. Here a request queues
/// its read and gives its thread back; the reader threads drain the queue and hand each row back to the thread pool.
/// Few connections also matter to SQLite itself: every write to the database makes each reading connection drop its
/// page cache and its memory map of the file at its next read, so the fewer connections, the less is mapped again.
/// </summary>
internal sealed class SqliteReadThreads : IDisposable
{
    private const string Sql = """
        SELECT d."TokenEpoch", d."LeaseSeq", d."LeaseJws", d."LeaseMode", d."LeaseUnlockedUntil", d."AppliedSeq", l."KeySetJson", d."WrongCodes", d."LenderId"
        FROM "Devices" AS d
        INNER JOIN "Lenders" AS l ON d."LenderId" = l."Id"
        WHERE d."Id" = $id
        LIMIT 1
        """;

    private readonly string _connectionString;
    private readonly ConcurrentQueue<PendingRead> _queue = new();
    private readonly ConcurrentBag<PendingRead> _spare = [];
    private readonly object _gate = new(); // Monitor.Wait and Pulse, which System.Threading.Lock has not
    private readonly Thread[] _threads;
    private int _sleeping;
    private volatile bool _stopping;

    public SqliteReadThreads(string connectionString, int threads)
    {
        _connectionString = connectionString;
        _threads = new Thread[threads];
        for (var i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"Lien SQLite reader {i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>The check-in row of <paramref name="deviceId"/>, read on a reader thread; the caller continues on the thread pool.</summary>
    public ValueTask<CheckInRow?> ReadAsync(Guid deviceId)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (!_spare.TryTake(out var read)) read = new PendingRead(this);
        read.DeviceId = deviceId;
        var task = read.Task;
        _queue.Enqueue(read);
        // Enqueue is a full fence, as is a reader's increment before it looks at the queue again: either it sees this
        // read, or this sees it asleep and wakes it.
        if (Volatile.Read(ref _sleeping) > 0)
            lock (_gate) Monitor.Pulse(_gate);
        return task;
    }

    // Reads queued together share one read transaction, up to this many: SQLite's locks on the file and on the log's
    // index are taken and given back once for them all (fcntl calls, a tenth of a reader's time when each read had its
    // own), and the log's header is checked once.
    internal const int MaxReadsPerTransaction = 64;

    private void Run()
    {
        Statement? statement = null;
        var batch = new List<PendingRead>(MaxReadsPerTransaction);
        try
        {
            while (true)
            {
                while (!_queue.IsEmpty)
                {
                    // Only reads already queued share a transaction, taken before its first statement runs: each sees
                    // every commit made before it was asked for, as a read of its own would.
                    while (batch.Count < MaxReadsPerTransaction && _queue.TryDequeue(out var read)) batch.Add(read);
                    for (var done = 0; done < batch.Count;)
                    {
                        try
                        {
                            statement ??= new Statement(_connectionString);
                            statement.ReadAll(batch, ref done);
                        }
                        catch (Exception e)
                        {
                            // A connection that failed is not trusted again: the reads after the one that failed go on
                            // with a fresh one.
                            statement?.Dispose();
                            statement = null;
                            batch[done++].Fail(e);
                        }
                    }
                    batch.Clear();
                }
                lock (_gate)
                {
                    Interlocked.Increment(ref _sleeping);
                    if (_queue.IsEmpty && !_stopping) Monitor.Wait(_gate);
                    Interlocked.Decrement(ref _sleeping);
                }
                if (_stopping) break;
            }
        }
        finally
        {
            statement?.Dispose();
            foreach (var read in batch) read.Fail(new ObjectDisposedException(nameof(SqliteReadThreads)));
            while (_queue.TryDequeue(out var read)) read.Fail(new ObjectDisposedException(nameof(SqliteReadThreads)));
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        lock (_gate) Monitor.PulseAll(_gate);
        foreach (var thread in _threads) thread.Join();
    }

    /// <summary>One queued read, reused: its continuation always runs on the thread pool, never on a reader thread.</summary>
    private sealed class PendingRead(SqliteReadThreads owner) : IValueTaskSource<CheckInRow?>
    {
        private ManualResetValueTaskSourceCore<CheckInRow?> _core = new() { RunContinuationsAsynchronously = true };
        public Guid DeviceId;

        public ValueTask<CheckInRow?> Task => new(this, _core.Version);
        public void Complete(CheckInRow? row) => _core.SetResult(row);
        public void Fail(Exception e) => _core.SetException(e);

        public CheckInRow? GetResult(short token)
        {
            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                _core.Reset();
                owner._spare.Add(this);
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    private sealed class Statement : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _command;
        private readonly SqliteParameter _id;

        public Statement(string connectionString)
        {
            _connection = new SqliteConnection(connectionString);
            _connection.Open();
            using (var pragmas = _connection.CreateCommand())
            {
                // query_only: this connection can never write. mmap: page reads are memory reads from the OS cache.
                pragmas.CommandText = "PRAGMA query_only = 1; PRAGMA mmap_size = 2147418112; PRAGMA cache_size = -8192;";
                pragmas.ExecuteNonQuery();
            }
            _command = _connection.CreateCommand();
            _command.CommandText = Sql;
            _id = _command.Parameters.Add("$id", SqliteType.Text);
            _command.Prepare();
        }

        /// <summary>
        /// Answers <paramref name="reads"/> from index <paramref name="done"/> on, in one read transaction when there
        /// are several, moving <paramref name="done"/> past each; a read that throws is left at <paramref name="done"/>.
        /// </summary>
        public void ReadAll(List<PendingRead> reads, ref int done)
        {
            if (reads.Count - done == 1)
            {
                reads[done].Complete(Read(reads[done].DeviceId));
                done++;
                return;
            }
            using var tx = _connection.BeginTransaction(deferred: true);
            _command.Transaction = tx;
            try
            {
                for (; done < reads.Count; done++) reads[done].Complete(Read(reads[done].DeviceId));
            }
            finally
            {
                _command.Transaction = null;
            }
        }

        private CheckInRow? Read(Guid deviceId)
        {
            _id.Value = deviceId;
            using var r = _command.ExecuteReader(CommandBehavior.SingleRow);
            return r.Read()
                ? new CheckInRow(r.GetInt32(0), r.GetInt64(1), r.GetString(2), Enum.Parse<LeaseMode>(r.GetString(3)),
                    r.IsDBNull(4) ? null : SqliteDirect.Instant(r.GetInt64(4)), r.GetInt64(5), r.GetString(6), r.GetGuid(8), r.GetInt32(7))
                : null;
        }

        public void Dispose()
        {
            _command.Dispose();
            _connection.Dispose();
        }
    }
}
