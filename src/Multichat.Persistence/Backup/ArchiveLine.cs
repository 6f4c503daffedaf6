namespace Multichat.Persistence.Backup;

/// <summary>One line of a <c>.mcbak</c> archive: the header first, then sessions each followed by their messages, then the trailer.</summary>
internal sealed record ArchiveLine
{
    public ArchiveHeader? Header { get; init; }

    public ChatSession? Session { get; init; }

    public ChatMessage? Message { get; init; }

    public ArchiveTrailer? End { get; init; }
}
