namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// The idempotency index of one session: which sequence holds a message id, as an open-addressing table of 8 bytes a
/// slot (32 bits of the id's hash, the low 32 bits of its sequence) — about 11 to 21 bytes per message, no objects.
/// It only proposes candidates: the caller reads the line and compares the real id, so a hash collision costs one
/// read, never a wrong answer.
/// </summary>
internal sealed class JsonIdIndex
{
    private ulong[] _slots = new ulong[1024];
    private int _count;

    public int Count => _count;

    public void Add(ulong hash, long sequence)
    {
        if ((_count + 1) * 4L > _slots.Length * 3L)
        {
            Grow();
        }

        Insert(_slots, Pack(hash, sequence));
        _count++;
    }

    /// <summary>
    /// The sequences stored under <paramref name="hash"/>'s fragment, in no particular order; each full sequence is rebuilt
    /// from its low 32 bits as the highest one not above <paramref name="lastSequence"/>.
    /// </summary>
    public void Candidates(ulong hash, long lastSequence, List<long> into)
    {
        into.Clear();
        var fragment = Fragment(hash);
        var mask = _slots.Length - 1;
        for (var i = Position(fragment, mask); ; i = (i + 1) & mask)
        {
            var slot = _slots[i];
            if (slot == 0)
            {
                return;
            }

            if ((uint)(slot >> 32) == fragment)
            {
                var low = (uint)slot;
                into.Add(lastSequence - (uint)((uint)lastSequence - low));
            }
        }
    }

    private static uint Fragment(ulong hash)
    {
        var fragment = (uint)(hash >> 32);
        return fragment == 0 ? 1 : fragment; // 0 marks an empty slot
    }

    private static ulong Pack(ulong hash, long sequence) => ((ulong)Fragment(hash) << 32) | (uint)sequence;

    private static void Insert(ulong[] slots, ulong packed)
    {
        // The position comes from the stored fragment (hash bits already well mixed), so growing needs no original hash.
        var mask = slots.Length - 1;
        for (var i = Position((uint)(packed >> 32), mask); ; i = (i + 1) & mask)
        {
            if (slots[i] == 0)
            {
                slots[i] = packed;
                return;
            }
        }
    }

    private static int Position(uint fragment, int mask) => (int)(fragment & (uint)mask);

    private void Grow()
    {
        var bigger = new ulong[_slots.Length * 2];
        foreach (var slot in _slots)
        {
            if (slot != 0)
            {
                Insert(bigger, slot);
            }
        }

        _slots = bigger;
    }
}
