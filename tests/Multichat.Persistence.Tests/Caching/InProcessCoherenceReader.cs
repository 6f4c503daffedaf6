using System.Collections.Concurrent;
using System.Globalization;

namespace Multichat.Persistence.Tests.Caching;

/// <summary>The reader as another instance in this process (for Redis: its own multiplexer, as another machine
/// would have), spinning like the TestWorker's cache-read mode.</summary>
public sealed class InProcessCoherenceReader : ICoherenceReader
{
    private readonly SessionPersistence _persistence;
    private readonly string _sessionId;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, bool> _seenMessages = new();
    private readonly ConcurrentDictionary<string, bool> _seenRecords = new();
    private readonly Task _spinner;

    public InProcessCoherenceReader(SessionPersistence persistence, string sessionId)
    {
        _persistence = persistence;
        _sessionId = sessionId;
        _spinner = Task.Run(SpinAsync);
    }

    public IReadOnlyCollection<string> SeenMessages => [.. _seenMessages.Keys];

    public IReadOnlyCollection<string> SeenRecords => [.. _seenRecords.Keys];

    public async Task<(string Messages, string Record)> ReadAsync(int readNumber)
    {
        await _gate.WaitAsync();
        try
        {
            return await DescribeAsync(_persistence, _sessionId);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _spinner;
        await _persistence.DisposeAsync();
        _stop.Dispose();
        _gate.Dispose();
    }

    /// <summary>What a read shows, described as the TestWorker's cache-read mode describes it.</summary>
    public static async Task<(string Messages, string Record)> DescribeAsync(SessionPersistence persistence, string sessionId)
    {
        string messages;
        try
        {
            messages = string.Join(',', (await persistence.GetMessagesAsync(sessionId, 5)).Select(m => $"{m.Id}:{m.Content}"));
            messages = messages.Length == 0 ? "(none)" : messages;
        }
        catch (SessionNotFoundException)
        {
            messages = "-";
        }

        var session = await persistence.GetSessionAsync(sessionId);
        return (messages, session is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{session.Title}/{session.Version}"));
    }

    private async Task SpinAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await _gate.WaitAsync();
            try
            {
                var (messages, record) = await DescribeAsync(_persistence, _sessionId);
                _seenMessages.TryAdd(messages, true);
                _seenRecords.TryAdd(record, true);
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
