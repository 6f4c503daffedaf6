namespace Multichat.Persistence.Internal;

/// <summary>
/// The append rule every store that decides in process (under its lock) shares: a message whose id is stored, or
/// repeated earlier in the batch, is answered with the stored original; every other one gets the next sequence, in
/// batch order, and the store clock when its timestamp was left at default.
/// </summary>
internal static class BatchSequencer
{
    /// <summary>Decides the stored form of each message; <paramref name="lastSequence"/> advances past the new ones.</summary>
    /// <param name="messages">The batch, already validated.</param>
    /// <param name="lastSequence">The session's highest sequence so far; on return, the highest after this batch.</param>
    /// <param name="now">The store clock's now.</param>
    /// <param name="state">Passed to <paramref name="findStored"/>, so a static lambda needs no closure.</param>
    /// <param name="findStored">Looks an id up among the messages the session holds.</param>
    public static ChatMessage[] Assign<TState>(
        IReadOnlyList<ChatMessage> messages, ref long lastSequence, DateTimeOffset now, TState state, Func<TState, string, ChatMessage?> findStored)
    {
        var stored = new ChatMessage[messages.Count];
        var inBatch = messages.Count > 1 ? new Dictionary<string, ChatMessage>(messages.Count, StringComparer.Ordinal) : null;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (inBatch is not null && inBatch.TryGetValue(message.Id, out var repeated))
            {
                stored[i] = repeated;
                continue;
            }

            stored[i] = findStored(state, message.Id) ?? MessageRecords.Stored(message, ++lastSequence, now);
            inBatch?.Add(message.Id, stored[i]);
        }

        return stored;
    }
}
