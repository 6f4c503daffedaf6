namespace Multichat.Persistence.Internal;

/// <summary>Checks that imported messages can be written verbatim without breaking the order guarantee.</summary>
internal static class ImportChecks
{
    public static void EnsureAscending(IReadOnlyList<ChatMessage> messages, long lastStoredSequence)
    {
        var previous = lastStoredSequence;
        foreach (var message in messages)
        {
            if (message.Sequence <= previous)
            {
                throw new ArgumentException(
                    $"Imported message '{message.Id}' has sequence {message.Sequence}, not above {previous}; imported messages come in ascending sequence after those stored.",
                    nameof(messages));
            }

            previous = message.Sequence;
        }
    }
}
