using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Multichat.Persistence.Diagnostics;

/// <summary>
/// Times one facade operation and reports it (metric, trace span, and a log line on backend failure). A struct with
/// no closures, so the hot append and read paths pay almost nothing when no one listens.
/// </summary>
internal readonly struct OperationScope
{
    private readonly string _store;
    private readonly string _operation;
    private readonly long _started;
    private readonly Activity? _activity;

    public OperationScope(string store, string operation)
    {
        _store = store;
        _operation = operation;
        _started = Stopwatch.GetTimestamp();
        _activity = PersistenceTelemetry.ActivitySource.HasListeners()
            ? PersistenceTelemetry.ActivitySource.StartActivity(SpanName(operation), ActivityKind.Client)
            : null;
        if (_activity is { IsAllDataRequested: true })
        {
            _activity.SetTag("multichat.store", store);
        }
    }

    public void Complete() => Finish("ok");

    // The span name of each operation, built once: a listened-to call allocates no string for it.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> SpanNames = new(StringComparer.Ordinal);

    private static string SpanName(string operation) => SpanNames.GetOrAdd(operation, static o => $"multichat.persistence {o}");

    /// <summary>Reports a failure; returns false so it can sit in an exception filter and leave the stack intact.</summary>
    public bool Fail(Exception exception, ILogger logger)
    {
        var outcome = exception switch
        {
            ArgumentException => "invalid_argument",
            SessionNotFoundException => "not_found",
            SessionAlreadyExistsException => "already_exists",
            ConcurrencyConflictException => "conflict",
            QuotaExceededException => "quota_exceeded",
            OperationCanceledException => "canceled",
            ReplicationTimeoutException => "replication_timeout",
            StoreUnavailableException => "unavailable",
            StoreCorruptedException => "corrupted",
            _ => "error",
        };
        if (outcome is "unavailable" or "replication_timeout" or "corrupted" or "error")
        {
            Log.OperationFailed(logger, _operation, _store, exception);
            _activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
        }

        Finish(outcome);
        return false;
    }

    private void Finish(string outcome)
    {
        if (PersistenceTelemetry.Duration.Enabled)
        {
            PersistenceTelemetry.Duration.Record(
                Stopwatch.GetElapsedTime(_started).TotalSeconds,
                new KeyValuePair<string, object?>("multichat.store", _store),
                new KeyValuePair<string, object?>("multichat.operation", _operation),
                new KeyValuePair<string, object?>("multichat.outcome", outcome));
        }

        if (_activity is not null)
        {
            // A span that is propagated but not recorded (a sampler said no) gets no tags: nobody would read them.
            if (_activity.IsAllDataRequested)
            {
                _activity.SetTag("multichat.outcome", outcome);
            }

            _activity.Dispose();
        }
    }
}
