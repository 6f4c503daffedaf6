namespace Multichat.Persistence.Tests.Fuzzing;

/// <summary>
/// Which of the target's messages a damaged <c>messages.jsonl</c> must still serve, worked out from the bytes alone
/// (never from the store's own parser): when the file is the template's lines in their order with some deleted, at
/// most one changed in place (its <c>{"seq":N,</c> intact, so it cannot move), any number of lines that cannot be
/// messages (no <c>"seq"</c> in them), and an unfinished tail, then exactly the unchanged lines are served, less a
/// batch left unfinished at the end (its last line lost: the store drops the rest of it, as after a crash). The
/// changed line may be served or skipped. Anything else (a duplicate, a swap, a moved sequence) is not predicted:
/// only the type rules apply then.
/// </summary>
internal sealed record JsonReadBack(IReadOnlySet<long> Served, long? Maybe)
{
    private static readonly byte[] SeqKey = "\"seq\""u8.ToArray();

    public static JsonReadBack? Predict(byte[] mutated, IReadOnlyList<(byte[] Line, bool More)> template, IReadOnlyList<ChatMessage> messages)
    {
        // Per complete line of the damaged file: the template line it is (>= 0), the one changed in place (-2 - index),
        // or a line that cannot be a message (int.MinValue).
        var entries = new List<int>();
        var next = 0;
        var changed = false;
        foreach (var (start, length) in ByteMutations.LineSpans(mutated))
        {
            var line = mutated.AsSpan(start, length);
            if (line[^1] != '\n')
            {
                break; // an unfinished tail: set aside by the store, never served
            }

            var found = -1;
            for (var j = next; j < template.Count; j++)
            {
                if (line.SequenceEqual(template[j].Line))
                {
                    found = j;
                    break;
                }
            }

            if (found >= 0)
            {
                entries.Add(found);
                next = found + 1;
            }
            else if (!changed && next < template.Count && line.StartsWith(Prefix(template[next].Line)))
            {
                entries.Add(-2 - next);
                next++;
                changed = true;
            }
            else if (line.IndexOf(SeqKey) < 0)
            {
                entries.Add(int.MinValue);
            }
            else
            {
                return null;
            }
        }

        // The end of the file: lines of a batch whose last line is gone are dropped, as the store drops a torn batch.
        var dropped = new HashSet<int>();
        for (var k = entries.Count - 1; k >= 0; k--)
        {
            var entry = entries[k];
            if (entry >= 0 && template[entry].More)
            {
                dropped.Add(entry);
                continue;
            }

            if (entry is < -1 and > int.MinValue && template[-2 - entry].More)
            {
                return null; // a changed line ending a torn batch: whether it ends the batch depends on what changed
            }

            break;
        }

        var served = entries.Where(e => e >= 0 && !dropped.Contains(e)).Select(e => messages[e].Sequence).ToHashSet();
        var maybe = entries.Where(e => e is < -1 and > int.MinValue).Select(e => (long?)messages[-2 - e].Sequence).FirstOrDefault();
        return new JsonReadBack(served, maybe);
    }

    /// <summary><c>{"seq":N,</c>: the part of a line that fixes its sequence.</summary>
    private static ReadOnlySpan<byte> Prefix(byte[] line) => line.AsSpan(0, line.AsSpan().IndexOf((byte)',') + 1);
}
