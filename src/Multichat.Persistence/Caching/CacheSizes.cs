namespace Multichat.Persistence.Caching;

/// <summary>Estimates of what cached objects cost in memory (UTF-16 strings, object headers, dictionary entries): an
/// estimate, but one that grows with what a session really holds, so the byte bound bounds memory.</summary>
internal static class CacheSizes
{
    private const int ObjectOverhead = 24;
    private const int StringOverhead = 22;
    private const int MetadataEntryOverhead = 48;

    public static long Of(ChatMessage[] messages)
    {
        long total = ObjectOverhead + (8L * messages.Length);
        foreach (var message in messages)
        {
            total += Of(message);
        }

        return total;
    }

    public static long Of(ChatMessage message) =>
        ObjectOverhead + 64 + Text(message.Id) + Text(message.Sender) + Text(message.Recipient) + Text(message.Content) + Of(message.Metadata);

    public static long Of(ChatSession session)
    {
        long total = ObjectOverhead + 80 + Text(session.SessionId) + Text(session.Title) + Of(session.Metadata);
        foreach (var participant in session.Participants)
        {
            total += 8 + Text(participant);
        }

        return total;
    }

    private static long Of(IReadOnlyDictionary<string, string> metadata)
    {
        long total = 0;
        foreach (var (key, value) in metadata)
        {
            total += MetadataEntryOverhead + Text(key) + Text(value);
        }

        return total;
    }

    // The message's session id is the session's own string in every store's results; not counted per message.
    // A string is 22 bytes plus two per char, rounded up to the 8-byte allocation unit (the rounding is ~2 % of a
    // typical message, measured by the cache-memory benchmark run).
    private static long Text(string? text) => text is null ? 0 : (StringOverhead + (2L * text.Length) + 7) & ~7L;
}
