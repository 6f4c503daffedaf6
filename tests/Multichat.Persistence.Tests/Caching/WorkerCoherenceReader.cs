using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Caching;

/// <summary>The reader as another process: the TestWorker's cache-read mode, spoken to over stdin/stdout.</summary>
public sealed class WorkerCoherenceReader : ICoherenceReader
{
    private readonly TestWorkerProcess _worker;

    private WorkerCoherenceReader(TestWorkerProcess worker)
    {
        _worker = worker;
    }

    public IReadOnlyCollection<string> SeenMessages => Seen("seen-messages ");

    public IReadOnlyCollection<string> SeenRecords => Seen("seen-record ");

    public static async Task<WorkerCoherenceReader> StartAsync(string storageType, string location, string sessionId)
    {
        var worker = TestWorkerProcess.Start("cache-read", storageType, location, sessionId);
        var exited = worker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        if (await Task.WhenAny(worker.Ready, exited) != worker.Ready)
        {
            var error = worker.StandardError;
            worker.Dispose();
            throw new InvalidOperationException($"The cache-read worker ended before it was ready: {error}");
        }

        return new WorkerCoherenceReader(worker);
    }

    public async Task<(string Messages, string Record)> ReadAsync(int readNumber)
    {
        var prefix = $"state {readNumber} ";
        _worker.Send($"read {readNumber}");
        await _worker.WaitUntilAsync(w => w.Events.Any(e => e.StartsWith(prefix, StringComparison.Ordinal)), TimeSpan.FromSeconds(60));
        var parts = _worker.Events.First(e => e.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..].Split(' ');
        return (parts[0], parts[1]);
    }

    public async ValueTask DisposeAsync()
    {
        _worker.Send("quit");
        await _worker.WaitForExitAsync(TimeSpan.FromSeconds(30));
        _worker.Dispose();
    }

    private HashSet<string> Seen(string prefix) =>
        [.. _worker.Events.Where(e => e.StartsWith(prefix, StringComparison.Ordinal)).Select(e => e[prefix.Length..])];
}
