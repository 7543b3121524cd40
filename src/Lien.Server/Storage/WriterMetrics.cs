using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Lien.Server.Storage;

/// <summary>
/// How busy a node's one SQLite writer is (meter <c>Lien.Server</c>; <c>dotnet-counters monitor -n Lien.Server --counters
/// Lien.Server</c>): the capacity signal of a SQLite deployment. <c>lien.sqlite.writer.busy_time</c> grows by the seconds the
/// writer's turn was held: its rate is the share of the time the writer was taken, and near 1 every write waits behind
/// others (under the payments bench it is 0.93). <c>lien.sqlite.writer.wait</c> is how long each unit of work and each
/// writer of its own waited for the turn; <c>lien.sqlite.writer.batch</c>, how many units each commit held (group commit:
/// more when writers queue).
/// </summary>
internal sealed class WriterMetrics(IMeterFactory meters)
{
    private readonly Counter<double> _busy = meters.Create("Lien.Server")
        .CreateCounter<double>("lien.sqlite.writer.busy_time", "s", "Time the SQLite writer's turn was held.");

    private readonly Histogram<double> _wait = meters.Create("Lien.Server")
        .CreateHistogram<double>("lien.sqlite.writer.wait", "ms", "Time a write waited for the SQLite writer's turn.");

    private readonly Histogram<int> _batch = meters.Create("Lien.Server")
        .CreateHistogram<int>("lien.sqlite.writer.batch", "{unit}", "Units of work one SQLite commit held.");

    public void Held(long fromTimestamp, long toTimestamp)
    {
        if (_busy.Enabled) _busy.Add(Stopwatch.GetElapsedTime(fromTimestamp, toTimestamp).TotalSeconds);
    }

    public void Waited(long fromTimestamp, long toTimestamp)
    {
        if (_wait.Enabled) _wait.Record(Stopwatch.GetElapsedTime(fromTimestamp, toTimestamp).TotalMilliseconds);
    }

    public void Committed(int units) => _batch.Record(units);
}
