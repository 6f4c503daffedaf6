using System.Text.Json.Serialization;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// The content of a session's <c>reads.json</c>: each participant's marked read cursor, tagged with the session's life
/// (<see cref="JsonSessionDocument.Epoch"/>) so a file left behind by an earlier life is never taken for this one's.
/// </summary>
internal sealed class JsonReadsDocument
{
    /// <summary>The epoch of the session life the cursors belong to.</summary>
    [JsonRequired]
    public long Epoch { get; set; }

    /// <summary>Marked cursors by participant (ordinal); only what was marked, never counts.</summary>
    [JsonRequired]
    public Dictionary<string, long> Cursors { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// What is wrong with a file read from disk (null when nothing), as <see cref="JsonSessionDocument.Problem"/> does for
    /// the record: a cursor the session never reached is as damaged as one that does not parse.
    /// </summary>
    public string? Problem(long lastSequence)
    {
        if (Cursors is null)
        {
            return "its cursors are null";
        }

        foreach (var (participant, cursor) in Cursors)
        {
            if (string.IsNullOrEmpty(participant))
            {
                return "a participant id is empty";
            }

            if (cursor < 0 || cursor > lastSequence)
            {
                return $"a cursor is outside 0 to the session's last sequence {lastSequence}";
            }
        }

        return null;
    }
}
