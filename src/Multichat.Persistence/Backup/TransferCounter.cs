namespace Multichat.Persistence.Backup;

/// <summary>
/// Counts what a transfer has done and reports it to an <see cref="IProgress{T}"/> after each session and every
/// <see cref="MessagesPerReport"/> messages, so a progress bar moves without a report per message.
/// </summary>
internal sealed class TransferCounter(IProgress<TransferProgress> progress, long? sessionsTotal, long? messagesTotal)
{
    public const int MessagesPerReport = 1000;

    private long _sessions;
    private long _messages;

    public static TransferCounter? For(IProgress<TransferProgress>? progress, long? sessionsTotal = null, long? messagesTotal = null) =>
        progress is null ? null : new TransferCounter(progress, sessionsTotal, messagesTotal);

    public void Item(PortableItem item, Stream? archive)
    {
        if (item.Session is not null)
        {
            SessionDone(archive);
        }
        else
        {
            MessagesDone(1, archive);
        }
    }

    public void SessionDone(Stream? archive)
    {
        _sessions++;
        Report(archive);
    }

    public void MessagesDone(int count, Stream? archive)
    {
        var before = _messages / MessagesPerReport;
        _messages += count;
        if (_messages / MessagesPerReport != before)
        {
            Report(archive);
        }
    }

    public void Finish(Stream? archive) => Report(archive);

    private void Report(Stream? archive) =>
        progress.Report(new TransferProgress(_sessions, sessionsTotal, _messages, messagesTotal, archive is { CanSeek: true } ? archive.Position : 0));
}
