using Microsoft.Extensions.Logging;

namespace Multichat.Persistence.Tests.Infrastructure;

/// <summary>Collects log events (id, level, rendered message) so tests can check what a store reports.</summary>
public sealed class CapturingLoggerFactory : ILoggerFactory
{
    private readonly List<(EventId Id, LogLevel Level, string Message)> _events = [];

    public IReadOnlyList<(EventId Id, LogLevel Level, string Message)> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._events)
            {
                owner._events.Add((eventId, logLevel, formatter(state, exception)));
            }
        }
    }
}
