using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Lien.TestSupport;

/// <summary>What the server logged (at the level the fixture lets through, Warning and up), for tests that say "no error in the log".</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyCollection<LogEntry> Entries => _entries;

    public IEnumerable<LogEntry> Errors => _entries.Where(e => e.Level >= LogLevel.Error);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new LogEntry(logLevel, category, formatter(state, exception), exception?.GetType().Name));
    }
}

/// <summary>One log entry: its level, category, message and the type of the exception it carried, if any.</summary>
public sealed record LogEntry(LogLevel Level, string Category, string Message, string? Exception);
