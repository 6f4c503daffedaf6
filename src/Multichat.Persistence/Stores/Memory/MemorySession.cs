using Multichat.Persistence.Caching;

namespace Multichat.Persistence.Stores.Memory;

/// <summary>One session of the <see cref="MemoryStore"/>; every member is guarded by <see cref="Gate"/>.</summary>
internal sealed class MemorySession(ChatSession record, long? epoch = null)
{
    private readonly List<ChatMessage> _messages = [];

    // Trimming advances the head instead of shifting the list, so removing the oldest is O(removed), amortised.
    private int _head;

    public object Gate { get; } = new();

    public ChatSession Record { get; set; } = record;

    /// <summary>This life of the session (a create, an import or a replacement makes a new state, so a new epoch).</summary>
    public long Epoch { get; private set; } = epoch ?? SessionEpoch.New();

    public Dictionary<string, ChatMessage> ById { get; } = new(StringComparer.Ordinal);

    /// <summary>The read cursors marked in this life, by participant.</summary>
    public Dictionary<string, long> ReadCursors { get; } = new(StringComparer.Ordinal);

    public long LastSequence { get; set; } = record.LastSequence;

    public DateTimeOffset UpdatedAt { get; set; } = record.UpdatedAt;

    /// <summary>Set when the session was deleted, so writers that found it just before see it is gone.</summary>
    public bool Deleted { get; set; }

    /// <summary>Set (with <see cref="Deleted"/>) when a replacement or an import put another state in its place, so
    /// callers that found this one just before look the session up again instead of seeing it gone.</summary>
    public bool Replaced { get; set; }

    public int Count => _messages.Count - _head;

    /// <summary>Makes this state continue <paramref name="old"/>'s life (a guarded replacement: re-encryption): its
    /// epoch and read cursors. Called under the old state's gate, before this state is visible.</summary>
    public void Continue(MemorySession old)
    {
        Epoch = old.Epoch;
        foreach (var (participant, cursor) in old.ReadCursors)
        {
            ReadCursors[participant] = cursor;
        }
    }

    public SessionHead Head => new(Epoch, Record.Version, LastSequence, Count);

    public ChatSession Snapshot() => Record with { MessageCount = Count, LastSequence = LastSequence, UpdatedAt = UpdatedAt };

    public void Add(ChatMessage message)
    {
        _messages.Add(message);
        ById[message.Id] = message;
        LastSequence = Math.Max(LastSequence, message.Sequence);
    }

    public long LastStoredSequence => Count == 0 ? 0 : _messages[^1].Sequence;

    public long TrimTo(long keepLatest)
    {
        var remove = Count - keepLatest;
        if (remove <= 0)
        {
            return 0;
        }

        for (var i = 0; i < remove; i++)
        {
            ById.Remove(_messages[_head + i].Id);
        }

        _head += (int)remove;
        if (_head > _messages.Count / 2)
        {
            _messages.RemoveRange(0, _head);
            _head = 0;
        }

        return remove;
    }

    public List<ChatMessage> Fetch(MessageQuery query, int count)
    {
        // Index range [lo, hi) of the messages strictly between the bounds, found by binary search on sequence.
        var lo = query.AfterSequence is { } after ? IndexOfFirstAbove(after) : _head;
        var hi = query.BeforeSequence is { } before ? IndexOfFirstAbove(before - 1) : _messages.Count;
        var result = new List<ChatMessage>(Math.Max(0, Math.Min(count, hi - lo)));
        if (query.Order == MessageOrder.OldestFirst)
        {
            for (var i = lo; i < hi && result.Count < count; i++)
            {
                result.Add(_messages[i]);
            }
        }
        else
        {
            for (var i = hi - 1; i >= lo && result.Count < count; i--)
            {
                result.Add(_messages[i]);
            }
        }

        return result;
    }

    private int IndexOfFirstAbove(long sequence)
    {
        int lo = _head, hi = _messages.Count;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            if (_messages[mid].Sequence <= sequence)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
