namespace Multichat.Persistence.Internal;

/// <summary>The record a store writes for a new session: the caller's fields, the store's clock, version 1, no messages.</summary>
internal static class SessionRecords
{
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
}
