namespace Multichat.Persistence.Tests.Caching;

/// <summary>The other instance of a cache coherence test: it reads a session through its own cache, without pause,
/// between the writer's steps, and answers a read on request once the writer's step completed.</summary>
public interface ICoherenceReader : IAsyncDisposable
{
    /// <summary>Every distinct latest-messages state the reader saw while spinning (id:content, comma-separated).</summary>
    IReadOnlyCollection<string> SeenMessages { get; }

    /// <summary>Every distinct record state (title/version) the reader saw while spinning.</summary>
    IReadOnlyCollection<string> SeenRecords { get; }

    /// <summary>One read started after the call: the latest messages and the record, as the reader describes them.</summary>
    Task<(string Messages, string Record)> ReadAsync(int readNumber);
}
