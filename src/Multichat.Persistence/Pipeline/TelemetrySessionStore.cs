using Multichat.Persistence.Backup;
using Microsoft.Extensions.Logging;
using Multichat.Persistence.Diagnostics;

namespace Multichat.Persistence.Pipeline;

/// <summary>
/// Times and counts every store call (metric, trace span, a log line on backend failure) under the store's name: the
/// one place the telemetry try/catch lives. <see cref="OperationScope"/> is a struct and each call goes through a
/// static lambda, so an unobserved call allocates nothing extra. Health checks never throw for a store failure: they
/// report it.
/// </summary>
internal sealed class TelemetrySessionStore(ISessionStore inner, TimeProvider clock, ILogger logger) : DelegatingSessionStore(inner)
{
    private readonly string _store = inner.Name;

    public override Task<ChatSession> CreateSessionAsync(ChatSession session, SessionLimit limit, CancellationToken cancellationToken = default) =>
        ObserveAsync("create_session", (session, limit), static (s, a, ct) => s.CreateSessionAsync(a.session, a.limit, ct), cancellationToken);

    public override Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        ObserveAsync("get_session", sessionId, static (s, id, ct) => s.GetSessionAsync(id, ct), cancellationToken);

    public override Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default) =>
        ObserveAsync("update_session", session, static (s, a, ct) => s.UpdateSessionAsync(a, ct), cancellationToken);

    public override Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        ObserveAsync("delete_session", sessionId, static (s, id, ct) => s.DeleteSessionAsync(id, ct), cancellationToken);

    public override Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken = default) =>
        ObserveAsync("list_sessions", query, static (s, q, ct) => s.ListSessionsAsync(q, ct), cancellationToken);

    // The hot path, written out rather than through ObserveAsync: one state machine, as before the pipeline.
    public override async Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, MessageLimit limit, CancellationToken cancellationToken = default)
    {
        var scope = new OperationScope(_store, messages.Count == 1 ? "add_message" : "add_messages");
        try
        {
            var stored = await Inner.AppendMessagesAsync(sessionId, messages, limit, cancellationToken).ConfigureAwait(false);
            if (PersistenceTelemetry.MessagesWritten.Enabled || PersistenceTelemetry.ContentBytes.Enabled)
            {
                RecordWritten(messages);
            }

            scope.Complete();
            return stored;
        }
        catch (Exception ex) when (scope.Fail(ex, logger))
        {
            throw;
        }
    }

    public override Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default) =>
        ObserveAsync("get_messages", (sessionId, query), static (s, a, ct) => s.GetMessagesAsync(a.sessionId, a.query, ct), cancellationToken);

    public override Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default) =>
        ObserveAsync("trim_messages", (sessionId, keepLatest), static (s, a, ct) => s.TrimMessagesAsync(a.sessionId, a.keepLatest, ct), cancellationToken);

    public override Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default) =>
        ObserveAsync(
            "import_session",
            (session, replaceExisting),
            static async (s, a, ct) =>
            {
                await s.ImportSessionAsync(a.session, a.replaceExisting, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken);

    public override Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default) =>
        ObserveAsync(
            "import_messages",
            (sessionId, messages),
            static async (s, a, ct) =>
            {
                await s.ImportMessagesAsync(a.sessionId, a.messages, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken);

    public override Task ReplaceSessionAsync(
        ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, ReplacementExpectation? expected, CancellationToken cancellationToken) =>
        ObserveAsync(
            "replace_session",
            (session, batches, expected),
            static async (s, a, ct) =>
            {
                await SessionReplacement.ReplaceAsync(s, a.session, a.batches, a.expected, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken);

    public override Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default) =>
        ObserveAsync("statistics", 0, static (s, _, ct) => s.GetStatisticsAsync(ct), cancellationToken);

    public override async Task<HealthReport> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        var started = clock.GetTimestamp();
        HealthReport report;
        try
        {
            report = await ObserveAsync("health", 0, static (s, _, ct) => s.CheckHealthAsync(ct), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            report = new HealthReport { Status = StoreHealthStatus.Unhealthy, Store = _store, Description = ex.Message, Exception = ex };
        }

        return report with { Duration = clock.GetElapsedTime(started) };
    }

    /// <summary>Runs one call of the inner store inside an <see cref="OperationScope"/>; a synchronous throw of the
    /// store is reported (and returned as a faulted task) like an asynchronous one.</summary>
    private async Task<TResult> ObserveAsync<TArgs, TResult>(
        string operation, TArgs args, Func<ISessionStore, TArgs, CancellationToken, Task<TResult>> call, CancellationToken cancellationToken)
    {
        var scope = new OperationScope(_store, operation);
        try
        {
            var result = await call(Inner, args, cancellationToken).ConfigureAwait(false);
            scope.Complete();
            return result;
        }
        catch (Exception ex) when (scope.Fail(ex, logger))
        {
            throw;
        }
    }

    private void RecordWritten(IReadOnlyList<ChatMessage> batch)
    {
        long bytes = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            bytes += batch[i].Content.Length * sizeof(char);
        }

        var tag = new KeyValuePair<string, object?>("multichat.store", _store);
        PersistenceTelemetry.MessagesWritten.Add(batch.Count, tag);
        PersistenceTelemetry.ContentBytes.Add(bytes, tag);
    }
}
