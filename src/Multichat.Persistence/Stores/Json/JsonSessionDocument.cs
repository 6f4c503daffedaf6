using System.Text.Json.Serialization;
using Multichat.Persistence.Caching;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// The content of a session's <c>session.json</c>: the record, plus what the store needs to derive the counters from
/// the messages file without reading it whole. Replaced atomically; never changed by appends.
/// </summary>
internal sealed class JsonSessionDocument
{
    public required string SessionId { get; set; }

    [JsonRequired]
    public List<string> Participants { get; set; } = [];

    public string? Title { get; set; }

    public Dictionary<string, string>? Metadata { get; set; }

    [JsonRequired]
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Activity up to the last rewrite of this file; later appends carry their own time in the messages file.</summary>
    [JsonRequired]
    public DateTimeOffset UpdatedAt { get; set; }

    [JsonRequired]
    public long Version { get; set; }

    /// <summary>The highest sequence assigned up to the last rewrite (appends after it are read from the messages file).</summary>
    [JsonRequired]
    public long LastSequence { get; set; }

    /// <summary>Messages below this sequence are trimmed even where the messages file still holds them.</summary>
    [JsonRequired]
    public long FirstSequence { get; set; }

    /// <summary>How many sequences are missing between the first visible and the last message (imports only).</summary>
    [JsonRequired]
    public long Gaps { get; set; }

    /// <summary>Changes whenever <c>messages.jsonl</c> is replaced, so other processes know to drop what they cached.</summary>
    [JsonRequired]
    public string Incarnation { get; set; } = "";

    /// <summary>
    /// This life of the session, for the read cache's head check (<see cref="SessionHead.Epoch"/>): new with every record
    /// written from scratch (create, import, replacement), kept by every rewrite of it. Optional: a record written before
    /// epochs existed reads as 0, and readers that predate it skip the property.
    /// </summary>
    public long Epoch { get; set; }

    /// <summary>
    /// What is wrong with a record read from disk (null when nothing): the deserializer checks types and presence, not
    /// nulls or ranges, and a record edited by hand must never surface later as a NullReferenceException.
    /// </summary>
    public string? Problem()
    {
        if (string.IsNullOrEmpty(SessionId))
        {
            return "its sessionId is missing or empty";
        }

        if (Participants is null || Participants.Any(p => p is null))
        {
            return "its participants are null or hold a null";
        }

        if (Metadata is not null && Metadata.Values.Any(v => v is null))
        {
            return "its metadata holds a null value";
        }

        if (Incarnation is null)
        {
            return "its incarnation is null";
        }

        if (Version < 0 || LastSequence < 0 || FirstSequence < 0 || Gaps < 0)
        {
            return "a counter is negative";
        }

        if (Version > JsonMessageLine.MaxSequence || LastSequence > JsonMessageLine.MaxSequence || FirstSequence > JsonMessageLine.MaxSequence
            || Gaps > JsonMessageLine.MaxSequence)
        {
            return $"a counter is above {JsonMessageLine.MaxSequence}, which no session reaches";
        }

        // Every trim writes its floor with the last sequence as of then, so the next append (above lastSequence) is at or
        // above the floor. A floor beyond that would hide each message as soon as it is appended: acknowledged, yet lost.
        return FirstSequence > LastSequence + 1 ? "its firstSequence is above its lastSequence + 1, which no trim writes" : null;
    }

    /// <summary>
    /// The record of a session as the core rules made it (<see cref="Internal.SessionRecords"/>), with no messages yet:
    /// a new life of the session, so a new <see cref="Epoch"/>.
    /// </summary>
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
        Epoch = SessionEpoch.New(),
    };

    /// <summary>An owned copy of metadata, or null when empty (left out of the file).</summary>
    public static Dictionary<string, string>? CopyOf(IReadOnlyDictionary<string, string> metadata) =>
        metadata.Count == 0 ? null : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
}
