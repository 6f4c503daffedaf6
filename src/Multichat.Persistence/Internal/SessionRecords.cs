namespace Multichat.Persistence.Internal;

/// <summary>The session records every store writes: one rule for a new session and one for an imported one.</summary>
internal static class SessionRecords
{
    /// <summary>A new session: the caller's fields, the store's clock, version 1, no messages.</summary>
    public static ChatSession New(ChatSession session, DateTimeOffset now) => new()
    {
        SessionId = session.SessionId,
        Participants = [.. session.Participants],
        Title = session.Title,
        Metadata = MetadataCopy.Of(session.Metadata),
        CreatedAt = now,
        UpdatedAt = now,
        Version = 1,
    };

    /// <summary>An imported session as a store keeps it: owned copies, UTC timestamps, version and
    /// <see cref="ChatSession.LastSequence"/> kept, no messages yet.</summary>
    public static ChatSession Imported(ChatSession session) => session with
    {
        Participants = [.. session.Participants],
        Metadata = MetadataCopy.Of(session.Metadata),
        CreatedAt = session.CreatedAt.ToUniversalTime(),
        UpdatedAt = session.UpdatedAt.ToUniversalTime(),
        MessageCount = 0,
    };
}
