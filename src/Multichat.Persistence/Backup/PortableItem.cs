namespace Multichat.Persistence;

/// <summary>
/// One element of the portable stream that <see cref="SessionPersistence.ExportAsync(CancellationToken)"/> yields and
/// <see cref="SessionPersistence.ImportAsync(IAsyncEnumerable{PortableItem}, bool, CancellationToken)"/> takes: a session, then each of its messages in sequence order.
/// Exactly one of <see cref="Session"/> and <see cref="Message"/> is set.
/// </summary>
public sealed record PortableItem
{
    /// <summary>The session record, with its timestamps, version and last sequence.</summary>
    public ChatSession? Session { get; init; }

    /// <summary>
    /// With <see cref="Session"/>: the participants' marked read cursors (participant → sequence, at most the session's
    /// <see cref="ChatSession.LastSequence"/>), or <see langword="null"/> when none was marked. Import marks them again.
    /// </summary>
    public IReadOnlyDictionary<string, long>? ReadCursors { get; init; }

    /// <summary>A message of the session last yielded, with its sequence.</summary>
    public ChatMessage? Message { get; init; }

    /// <summary>An item carrying a session.</summary>
    public static PortableItem ForSession(ChatSession session) => new() { Session = session };

    /// <summary>An item carrying a message.</summary>
    public static PortableItem ForMessage(ChatMessage message) => new() { Message = message };
}
