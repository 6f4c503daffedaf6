namespace Multichat.Persistence.Backup;

/// <summary>One line of a <c>.mcbak</c> archive: the header first, then sessions each followed by their messages, then the trailer.</summary>
internal sealed record ArchiveLine
{
    public ArchiveHeader? Header { get; init; }

    public ChatSession? Session { get; init; }

    /// <summary>On a session's line: its marked read cursors (added within format version 2; a reader that does not
    /// know them ignores them).</summary>
    public Dictionary<string, long>? ReadCursors { get; init; }

    public ChatMessage? Message { get; init; }

    public ArchiveTrailer? End { get; init; }
}
