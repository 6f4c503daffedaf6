namespace Multichat.Persistence.Backup;

/// <summary>
/// Walks an archive's items a session at a time: <see cref="NextSessionAsync"/> gives the next session (skipping
/// whatever of the previous one's messages were not read), <see cref="MessageBatchesAsync"/> its messages in batches,
/// so a store can take one session as one atomic replacement while the archive streams.
/// </summary>
internal sealed class ArchiveSessionReader(IAsyncEnumerator<PortableItem> items)
{
    private bool _atSession;
    private bool _ended;

    /// <summary>The next session's item (its record and read cursors), or <see langword="null"/> at the end.</summary>
    public async ValueTask<PortableItem?> NextSessionAsync()
    {
        while (!_ended && !_atSession)
        {
            if (!await items.MoveNextAsync().ConfigureAwait(false))
            {
                _ended = true;
            }
            else if (items.Current.Session is not null)
            {
                _atSession = true;
            }
        }

        if (_ended)
        {
            return null;
        }

        _atSession = false;
        return items.Current;
    }

    /// <summary>The current session's messages, up to <paramref name="size"/> a batch; <paramref name="read"/> is told
    /// each batch's size as it is handed out.</summary>
    public async IAsyncEnumerable<IReadOnlyList<ChatMessage>> MessageBatchesAsync(int size, Action<int>? read)
    {
        var batch = new List<ChatMessage>(size);
        while (!_ended && !_atSession)
        {
            if (!await items.MoveNextAsync().ConfigureAwait(false))
            {
                _ended = true;
            }
            else if (items.Current.Session is not null)
            {
                _atSession = true;
            }
            else
            {
                batch.Add(items.Current.Message!);
                if (batch.Count == size)
                {
                    read?.Invoke(batch.Count);
                    yield return batch;
                    batch = new List<ChatMessage>(size);
                }
            }
        }

        if (batch.Count > 0)
        {
            read?.Invoke(batch.Count);
            yield return batch;
        }
    }
}
