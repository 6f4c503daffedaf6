namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// The content of a session's <c>session.json</c>: the record, plus what the store needs to derive the counters from
/// the messages file without reading it whole. Replaced atomically; never changed by appends.
/// </summary>
internal sealed class JsonSessionDocument
{
    public required string SessionId { get; set; }

    public List<string> Participants { get; set; } = [];

    public string? Title { get; set; }

    public Dictionary<string, string>? Metadata { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Activity up to the last rewrite of this file; later appends carry their own time in the messages file.</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    public long Version { get; set; }

    /// <summary>The highest sequence assigned up to the last rewrite (appends after it are read from the messages file).</summary>
    public long LastSequence { get; set; }

    /// <summary>Messages below this sequence are trimmed even where the messages file still holds them.</summary>
    public long FirstSequence { get; set; }

    /// <summary>How many sequences are missing between the first visible and the last message (imports only).</summary>
    public long Gaps { get; set; }

    /// <summary>Changes whenever <c>messages.jsonl</c> is replaced, so other processes know to drop what they cached.</summary>
    public string Incarnation { get; set; } = "";

    /// <summary>The record of a session as the core rules made it (<see cref="Internal.SessionRecords"/>), with no messages yet.</summary>
    public static JsonSessionDocument From(ChatSession session, string incarnation) => new()
    {
        SessionId = session.SessionId,
        Participants = [.. session.Participants],
        Title = session.Title,
        Metadata = CopyOf(session.Metadata),
        CreatedAt = session.CreatedAt,
        UpdatedAt = session.UpdatedAt,
        Version = session.Version,
        LastSequence = session.LastSequence,
        Incarnation = incarnation,
    };

    /// <summary>An owned copy of metadata, or null when empty (left out of the file).</summary>
    public static Dictionary<string, string>? CopyOf(IReadOnlyDictionary<string, string> metadata) =>
        metadata.Count == 0 ? null : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
}
