namespace Multichat.Persistence.Internal;

/// <summary>
/// The one place that checks caller input before it reaches a store, so every store sees the same rules and a bad
/// argument changes nothing. Each failure is an <see cref="ArgumentException"/> naming the argument and the rule.
/// </summary>
internal sealed class InputValidator(SessionPersistenceOptions options)
{
    /// <summary>The longest id (session, message, participant, sender, metadata key), in UTF-16 characters.</summary>
    public const int MaxIdLength = 256;

    /// <summary>The longest session title, in UTF-16 characters.</summary>
    public const int MaxTitleLength = 4096;

    public static void Id(string? value, string paramName)
    {
        if (value is null)
        {
            throw new ArgumentNullException(paramName, $"{paramName} is null; give an id of 1 to {MaxIdLength} characters.");
        }

        if (value.Length is 0 or > MaxIdLength)
        {
            throw new ArgumentException(
                $"{paramName} has {value.Length} characters; an id has 1 to {MaxIdLength}.", paramName);
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c < ' ' || (c >= '\u007f' && c <= '\u009f'))
            {
                throw new ArgumentException(
                    $"{paramName} contains the control character U+{(int)c:X4} at position {i}; ids may hold any Unicode text except control characters.",
                    paramName);
            }

            if (char.IsSurrogate(c))
            {
                // A lone surrogate cannot be written as UTF-8 by any store; a pair is an ordinary character.
                if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                {
                    i++;
                    continue;
                }

                throw new ArgumentException(
                    $"{paramName} contains an unpaired surrogate at position {i}; ids must be valid Unicode text.", paramName);
            }
        }
    }

    public IReadOnlyList<string> Participants(IEnumerable<string>? participants, string paramName)
    {
        ArgumentNullException.ThrowIfNull(participants, paramName);
        var list = participants.ToArray();
        if (list.Length > options.MaxParticipants)
        {
            throw new ArgumentException(
                $"{paramName} has {list.Length} entries; at most {options.MaxParticipants} are allowed (MaxParticipants).", paramName);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var participant in list)
        {
            Id(participant, paramName);
            if (!seen.Add(participant))
            {
                throw new ArgumentException($"{paramName} names '{participant}' twice; participants are distinct.", paramName);
            }
        }

        return list;
    }

    /// <param name="session">The session.</param>
    /// <param name="paramName">The parameter named in errors.</param>
    /// <param name="stored">The values are in their stored form (import, restore): an envelope may be as long as the
    /// sealed form of the longest value allowed; the protection layer checks what it opens.</param>
    public void Session(ChatSession? session, string paramName, bool stored = false)
    {
        ArgumentNullException.ThrowIfNull(session, paramName);
        Id(session.SessionId, $"{paramName}.{nameof(ChatSession.SessionId)}");
        Participants(session.Participants, $"{paramName}.{nameof(ChatSession.Participants)}");
        if (session.Title is { } title && title.Length > Limit(MaxTitleLength, title, stored))
        {
            throw new ArgumentException(
                $"{paramName}.{nameof(ChatSession.Title)} has {session.Title.Length} characters; at most {MaxTitleLength} are allowed.", paramName);
        }

        if (session.Title is not null)
        {
            WellFormedText(session.Title, paramName, nameof(ChatSession.Title));
        }

        Metadata(session.Metadata, $"{paramName}.{nameof(ChatSession.Metadata)}", stored);
    }

    /// <summary>A session record as import and restore write it (stored values, its own sequences): the rules of
    /// <see cref="Session"/> for stored values, and a last sequence that is not negative.</summary>
    public void ImportedSession(ChatSession session, string paramName)
    {
        Session(session, paramName, stored: true);
        if (session.LastSequence < 0)
        {
            throw new ArgumentException(
                $"Imported session '{session.SessionId}' has LastSequence {session.LastSequence}; sequences start at 1.", paramName);
        }
    }

    /// <summary>Read cursors an archive or import stream carries for <paramref name="session"/>: valid participant ids,
    /// sequences from 0 to the session's last.</summary>
    public static void ReadCursors(IReadOnlyDictionary<string, long>? cursors, ChatSession session, string paramName)
    {
        foreach (var (participant, sequence) in cursors ?? EmptyCursors)
        {
            Id(participant, $"{paramName} read cursor");
            if (sequence < 0 || sequence > session.LastSequence)
            {
                throw new ArgumentException(
                    $"Session '{session.SessionId}' carries a read cursor of '{participant}' at {sequence}; it must be between 0 and the session's last sequence {session.LastSequence}.", paramName);
            }
        }
    }

    private static readonly Dictionary<string, long> EmptyCursors = [];

    public void Message(ChatMessage? message, string sessionId, string paramName, bool stored = false)
    {
        ArgumentNullException.ThrowIfNull(message, paramName);
        Id(message.Id, $"{paramName}.{nameof(ChatMessage.Id)}");
        if (!string.Equals(message.SessionId, sessionId, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"{paramName}.{nameof(ChatMessage.SessionId)} is '{message.SessionId}' but the messages are added to session '{sessionId}'.",
                paramName);
        }

        Id(message.Sender, $"{paramName}.{nameof(ChatMessage.Sender)}");
        if (message.Recipient is not null)
        {
            Id(message.Recipient, $"{paramName}.{nameof(ChatMessage.Recipient)}");
        }

        if (message.Content is null)
        {
            throw new ArgumentNullException(paramName, $"{paramName}.{nameof(ChatMessage.Content)} is null; use an empty string for no text.");
        }

        if (message.Content.Length > Limit(options.MaxContentLength, message.Content, stored))
        {
            throw new ArgumentException(
                $"{paramName}.{nameof(ChatMessage.Content)} has {message.Content.Length} characters; at most {options.MaxContentLength} are allowed (MaxContentLength).",
                paramName);
        }

        WellFormedText(message.Content, paramName, nameof(ChatMessage.Content));

        if (message.Sequence != 0)
        {
            throw new ArgumentException(
                $"{paramName}.{nameof(ChatMessage.Sequence)} is {message.Sequence}; leave it 0, the store assigns sequences.", paramName);
        }

        Metadata(message.Metadata, $"{paramName}.{nameof(ChatMessage.Metadata)}", stored);
    }

    public IReadOnlyList<ChatMessage> Batch(string sessionId, IEnumerable<ChatMessage>? messages, string paramName)
    {
        ArgumentNullException.ThrowIfNull(messages, paramName);
        var list = messages as IReadOnlyList<ChatMessage> ?? messages.ToArray();
        if (list.Count == 0)
        {
            throw new ArgumentException($"{paramName} is empty; give at least one message.", paramName);
        }

        if (list.Count > options.MaxBatchSize)
        {
            throw new ArgumentException(
                $"{paramName} has {list.Count} messages; at most {options.MaxBatchSize} go in one batch (MaxBatchSize).", paramName);
        }

        // A single message is named by the parameter itself: no name is built on the hot one-message path.
        if (list.Count == 1)
        {
            Message(list[0], sessionId, paramName);
            return list;
        }

        for (var i = 0; i < list.Count; i++)
        {
            Message(list[i], sessionId, $"{paramName}[{i}]");
        }

        return list;
    }

    public void Metadata(IReadOnlyDictionary<string, string>? metadata, string paramName, bool stored = false)
    {
        if (metadata is null)
        {
            throw new ArgumentNullException(paramName, $"{paramName} is null; leave it unset for no metadata.");
        }

        if (metadata.Count == 0)
        {
            return;
        }

        if (metadata.Count > options.MaxMetadataEntries)
        {
            throw new ArgumentException(
                $"{paramName} has {metadata.Count} entries; at most {options.MaxMetadataEntries} are allowed (MaxMetadataEntries).", paramName);
        }

        foreach (var (key, value) in metadata)
        {
            Id(key, $"{paramName} key");
            if (value is null)
            {
                throw new ArgumentException($"{paramName}['{key}'] is null; metadata values are strings.", paramName);
            }

            if (value.Length > Limit(options.MaxMetadataValueLength, value, stored))
            {
                throw new ArgumentException(
                    $"{paramName}['{key}'] has {value.Length} characters; at most {options.MaxMetadataValueLength} are allowed (MaxMetadataValueLength).",
                    paramName);
            }

            WellFormedText(value, paramName, key);
        }
    }

    /// <summary>The longest a value may be: the plain limit, or for a stored envelope the length of the sealed form of
    /// a value at that limit (UTF-8 takes at most 3 bytes a character, base64 4 characters per 3 bytes, plus the
    /// envelope's header, nonce and tag).</summary>
    private static long Limit(int plainLimit, string value, bool stored) =>
        stored && Protection.ValueEnvelope.IsEnvelope(value) ? 4L * plainLimit + 140 : plainLimit;

    /// <summary>
    /// Refuses an unpaired surrogate: no store can write it as UTF-8, and JSON serializers would silently store U+FFFD,
    /// returning text other than what was given. Vectorized search, and the names are only put together on failure,
    /// so ordinary text costs next to nothing on the append path.
    /// </summary>
    public static void WellFormedText(string value, string paramName, string member)
    {
        var span = value.AsSpan();
        var offset = 0;
        while (true)
        {
            var found = span[offset..].IndexOfAnyInRange('\uD800', '\uDFFF');
            if (found < 0)
            {
                return;
            }

            var i = offset + found;
            if (char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                offset = i + 2;
                continue;
            }

            throw new ArgumentException(
                $"{paramName} ({member}) contains an unpaired surrogate at position {i}; text must be valid Unicode.", paramName);
        }
    }

    public static void Query(MessageQuery? query, string paramName)
    {
        ArgumentNullException.ThrowIfNull(query, paramName);
        Limit(query.Limit, MessageQuery.MaxLimit, paramName);
        if (!Enum.IsDefined(query.Order))
        {
            throw new ArgumentException($"{paramName}.Order '{query.Order}' is unknown; use OldestFirst or NewestFirst.", paramName);
        }

        if (query.AfterSequence < 0 || query.BeforeSequence < 0)
        {
            throw new ArgumentException($"{paramName} has a negative sequence bound; sequences start at 1.", paramName);
        }
    }

    public static void Query(SessionQuery? query, string paramName)
    {
        ArgumentNullException.ThrowIfNull(query, paramName);
        Limit(query.Limit, SessionQuery.MaxLimit, paramName);
        if (query.Participant is not null)
        {
            Id(query.Participant, $"{paramName}.{nameof(SessionQuery.Participant)}");
        }
        else if (query.IncludeReadState)
        {
            throw new ArgumentException(
                $"{paramName}.{nameof(SessionQuery.IncludeReadState)} is true but no {nameof(SessionQuery.Participant)} is set; read state is per participant.", paramName);
        }
    }

    public static void Query(InboxQuery? query, string paramName)
    {
        ArgumentNullException.ThrowIfNull(query, paramName);
        Limit(query.Limit, InboxQuery.MaxLimit, paramName);
    }

    public static void Limit(int limit, int max, string paramName)
    {
        if (limit < 1 || limit > max)
        {
            throw new ArgumentOutOfRangeException(paramName, limit, $"The page size must be between 1 and {max}.");
        }
    }
}
