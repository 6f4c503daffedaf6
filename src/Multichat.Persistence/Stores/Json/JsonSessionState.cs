using System.Buffers;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// What one store instance knows of one session folder, and the folder's cross-process lock. Every member is used
/// only while <see cref="Gate"/> is held; the file state is trusted only while <see cref="Lock"/> is held (after
/// <see cref="Validate"/> caught up with what other processes wrote since).
/// </summary>
internal sealed class JsonSessionState(string key, string folder, int slot)
{
    private readonly List<ChatMessage> _fresh = [];
    private ArrayBufferWriter<byte> _buffer = new(4096);
    private Utf8JsonWriter? _writer;
    private string? _incarnation;
    private SafeFileHandle? _messages;

    // The idempotency index (ids.idx), mapped on the first append and kept across leases; checked once per lease.
    private JsonIdFile? _ids;
    private bool _idsChecked;
    private readonly List<long> _candidates = [];

    public string Key { get; } = key;

    public string Folder { get; } = folder;

    public int Slot { get; } = slot;

    public string SessionPath { get; } = Path.Combine(folder, "session.json");

    public string MessagesPath { get; } = Path.Combine(folder, "messages.jsonl");

    public string LockPath { get; } = Path.Combine(folder, ".lock");

    public string WantPath { get; } = Path.Combine(folder, ".want");

    public string IdsPath { get; } = Path.Combine(folder, "ids.idx");

    /// <summary>Whether the id file this instance maps has lines indexed since its last checkpoint (a hint: read without the lock).</summary>
    public bool HasUnsyncedIds => _ids is { IsOpen: true } ids && ids.IndexedThrough > ids.SyncedThrough;

    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>The open lock file while this instance holds the session's lock (its lease).</summary>
    public FileStream? Lock { get; set; }

    /// <summary>Grows while another process waits for the lock, so the holder hands it over soon.</summary>
    public FileStream? Want { get; set; }

    public long AcquiredAt { get; set; }

    public long LastUsed { get; set; }

    public long LastStamp { get; set; }

    /// <summary>After handing the lock to a waiter, this instance does not try to take it back before this time.</summary>
    public long CourtesyUntil { get; set; }

    /// <summary>The session record, or null when the session does not exist.</summary>
    public JsonSessionDocument? Document { get; private set; }

    /// <summary>Bytes of committed lines in the messages file.</summary>
    public long Length { get; private set; }

    public long FirstLineSequence { get; private set; }

    public long LastLineSequence { get; private set; }

    public DateTimeOffset? LastAt { get; private set; }

    public long LastSequence => Math.Max(Document?.LastSequence ?? 0, LastLineSequence);

    public long MessageCount => Count(Document!, FirstLineSequence, LastLineSequence);

    public static long Count(JsonSessionDocument document, long firstLine, long lastLine)
    {
        var first = Math.Max(document.FirstSequence, firstLine);
        return lastLine > 0 && lastLine >= first ? lastLine - first + 1 - document.Gaps : 0;
    }

    public static ChatSession ToSession(JsonSessionDocument document, long firstLine, long lastLine, DateTimeOffset? lastAt) => new()
    {
        SessionId = document.SessionId,
        Participants = document.Participants.AsReadOnly(),
        Title = document.Title,
        Metadata = document.Metadata is { Count: > 0 } metadata ? metadata.AsReadOnly() : EmptyMetadata.Instance,
        CreatedAt = document.CreatedAt,
        UpdatedAt = lastAt is { } at && at > document.UpdatedAt ? at : document.UpdatedAt,
        Version = document.Version,
        LastSequence = Math.Max(document.LastSequence, lastLine),
        MessageCount = Count(document, firstLine, lastLine),
    };

    public ChatSession Snapshot() => ToSession(Document!, FirstLineSequence, LastLineSequence, LastAt);

    /// <summary>Catches up with the folder after taking the lock: re-reads the record, the file's new lines, and repairs a torn tail.</summary>
    public void Validate(JsonStore store)
    {
        // Another process may have replaced, grown or rebuilt the id file since our last lease.
        _idsChecked = false;
        Document = store.ReadDocument(SessionPath);
        if (Document is null)
        {
            ResetMessages();
            return;
        }

        if (!string.Equals(_incarnation, Document.Incarnation, StringComparison.Ordinal))
        {
            ResetMessages();
            _incarnation = Document.Incarnation;
        }

        var length = RandomAccess.GetLength(Messages);
        if (length < Length)
        {
            // Shorter than what we knew committed: replaced behind our back without a new incarnation. Start over, and
            // open the id file again so it is verified against the new file before it is trusted.
            ResetMessages();
            CloseIds(store);
            _incarnation = Document.Incarnation;
        }

        if (length > Length)
        {
            CatchUp(store, length);
        }
    }

    /// <summary>Gives up cached file state; the next <see cref="Validate"/> reads it again.</summary>
    public void Forget()
    {
        ResetMessages();
        Document = null;
    }

    public void CloseFiles()
    {
        _messages?.Dispose();
        _messages = null;
    }

    /// <summary>
    /// Called while the lock is still held, just before it is let go. Checkpoints the id file (see <see cref="JsonIdFile.Checkpoint"/>)
    /// with <see cref="Durability.Full"/>, and in any mode when <paramref name="final"/> (the store is disposed).
    /// <paramref name="unmap"/> also closes the id file's mapping.
    /// </summary>
    /// <remarks>
    /// Not at a lease's end in <see cref="Durability.Normal"/>: there the checkpoint must first flush the lines, often many
    /// megabytes, and the next append would wait for it (10-35 ms measured after a burst) — a stall that mode promises not
    /// to have. All it would buy is a shorter catch-up after a power loss, which in that mode may lose appends anyway.
    /// </remarks>
    public void EndLease(JsonStore store, bool final, bool unmap)
    {
        if (_ids is { IsOpen: true } ids && !ids.Superseded && Document is not null)
        {
            try
            {
                var unsynced = ids.IndexedThrough - ids.SyncedThrough;
                if (unsynced > 0 && (store.FlushToDisk || final))
                {
                    // Normal appends were never flushed: the lines go to the disk before the table that indexes them,
                    // so after a power loss the file is at least as long as SyncedThrough says.
                    if (!store.FlushToDisk)
                    {
                        RandomAccess.FlushToDisk(Messages);
                    }

                    ids.Checkpoint();
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A checkpoint only shortens the catch-up after a power loss; the table itself is intact. Swallowed
                // here, because the caller must still let go of the lock.
            }
        }

        if (unmap)
        {
            CloseIds(store);
        }

        CloseFiles();
    }

    public void CloseIds(JsonStore store)
    {
        if (_ids is not null)
        {
            _ids.Dispose();
            _ids = null;
            store.CountMappedIds(-1);
        }

        _idsChecked = false;
    }

    public IReadOnlyList<ChatMessage> Append(JsonStore store, IReadOnlyList<ChatMessage> messages, DateTimeOffset now)
    {
        var ids = Ids(store);
        var next = LastSequence;
        var first = next + 1;
        var stored = BatchSequencer.Assign(messages, ref next, now, (State: this, Store: store, Ids: ids), static (s, id) => s.State.FindStored(s.Store, s.Ids, id));

        if (next >= first)
        {
            _fresh.Clear();
            foreach (var message in stored)
            {
                if (message.Sequence >= first && (_fresh.Count == 0 || _fresh[^1].Sequence < message.Sequence))
                {
                    _fresh.Add(message);
                }
            }

            WriteLines(store, _fresh, now);
            _fresh.Clear();
        }

        return stored;
    }

    public void Import(JsonStore store, IReadOnlyList<ChatMessage> messages)
    {
        Internal.ImportChecks.EnsureAscending(messages, LastLineSequence);
        var document = Document!;
        var gaps = document.Gaps;
        // Sequences missing between the last visible message (or the trim floor) and the imported ones count as gaps.
        var previous = MessageCount > 0 ? LastLineSequence
            : document.FirstSequence > 0 || LastLineSequence > 0 ? Math.Max(document.FirstSequence, LastLineSequence + 1) - 1
            : messages[0].Sequence - 1;

        var copies = new List<ChatMessage>(messages.Count);
        foreach (var message in messages)
        {
            gaps += message.Sequence - previous - 1;
            previous = message.Sequence;
            copies.Add(message with { Timestamp = message.Timestamp.ToUniversalTime(), Metadata = MetadataCopy.Of(message.Metadata) });
        }

        WriteLines(store, copies, at: null);
        if (gaps != document.Gaps)
        {
            document.Gaps = gaps;
            store.WriteDocument(SessionPath, document);
        }
    }

    /// <summary>Removes the oldest messages beyond <paramref name="keep"/>; compacts the file when asked or when most of it is dead.</summary>
    public long Trim(JsonStore store, long keep, bool compact)
    {
        var count = MessageCount;
        if (count <= keep)
        {
            return 0;
        }

        var document = Document!;
        long newFirst;
        long gaps = 0;
        if (document.Gaps == 0)
        {
            newFirst = LastLineSequence - keep + 1;
        }
        else
        {
            // With gaps, the keep-th message from the end is found by walking back over exactly that many lines.
            newFirst = LastLineSequence + 1;
            long seen = 0;
            if (keep > 0)
            {
                var floor = document.FirstSequence;
                JsonLineScanner.Backward(Messages, 0, Length, (line, offset) =>
                {
                    if (JsonMessageLine.TryReadHeader(line, out var sequence, out _, out _, out _) && sequence >= floor)
                    {
                        newFirst = sequence;
                        seen++;
                    }

                    return seen < keep;
                });
                gaps = LastLineSequence - newFirst + 1 - seen;
            }
        }

        var dead = newFirst - Math.Max(document.FirstSequence, FirstLineSequence);
        var snapshot = Snapshot();
        document.FirstSequence = newFirst;
        document.Gaps = gaps;
        document.LastSequence = snapshot.LastSequence;
        document.UpdatedAt = snapshot.UpdatedAt;
        compact |= dead >= Math.Max(keep, 256);
        if (!compact)
        {
            store.WriteDocument(SessionPath, document);
            return count - keep;
        }

        // The record with its new floor and a new incarnation goes first: if the process dies before the file is replaced,
        // the floor already hides the trimmed lines and other processes re-read the file anyway.
        var cut = OffsetOf(newFirst);
        document.Incarnation = JsonStore.NewIncarnation();
        store.WriteDocument(SessionPath, document);
        var temp = MessagesPath + ".tmp";
        using (var target = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024))
        {
            var block = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                for (var position = cut; position < Length;)
                {
                    var read = RandomAccess.Read(Messages, block.AsSpan(0, (int)Math.Min(block.Length, Length - position)), position);
                    target.Write(block, 0, read);
                    position += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(block);
            }

            target.Flush(store.FlushToDisk);
        }

        CloseFiles();
        File.Move(temp, MessagesPath, overwrite: true);

        // The id file indexes the old incarnation: drop it now (it may be far bigger than what is left); the next append
        // builds one for the new file from its kept lines.
        CloseIds(store);
        File.Delete(IdsPath);
        ResetMessages();
        _incarnation = document.Incarnation;
        Validate(store);
        return count - keep;
    }

    /// <summary>Deletes the record first (the session is gone from then on), then the messages and their id file; the folder and its lock stay.</summary>
    public void Delete(JsonStore store)
    {
        File.Delete(SessionPath);
        CloseFiles();
        File.Delete(MessagesPath);
        CloseIds(store);
        File.Delete(IdsPath);
        Forget();
    }

    /// <summary>Writes a new record with no messages: a created or imported session.</summary>
    public void Reset(JsonStore store, JsonSessionDocument document)
    {
        CloseFiles();
        File.Delete(MessagesPath);
        CloseIds(store);
        File.Delete(IdsPath);
        ResetMessages();
        store.WriteDocument(SessionPath, document);
        Document = document;
        _incarnation = document.Incarnation;
    }

    public void Replace(JsonStore store, JsonSessionDocument document)
    {
        store.WriteDocument(SessionPath, document);
        Document = document;
    }

    public List<ChatMessage> Fetch(JsonStore store, MessageQuery query, int count)
    {
        var result = new List<ChatMessage>(Math.Min(count, 1024));
        var floor = Math.Max(Document!.FirstSequence, (query.AfterSequence ?? 0) + 1);
        var before = query.BeforeSequence ?? long.MaxValue;
        if (Length == 0 || floor >= before || floor > LastLineSequence)
        {
            return result;
        }

        var sessionId = Document.SessionId;
        if (query.Order == MessageOrder.NewestFirst)
        {
            var end = before > LastLineSequence ? Length : OffsetOf(before);
            JsonLineScanner.Backward(Messages, 0, end, (line, offset) =>
            {
                if (!JsonMessageLine.TryRead(line, sessionId, out var message))
                {
                    store.ReportDamaged(offset, line.Length);
                    return true;
                }

                if (message!.Sequence < floor)
                {
                    return false;
                }

                if (message.Sequence < before)
                {
                    result.Add(message);
                }

                return result.Count < count;
            });
        }
        else
        {
            var start = floor <= FirstLineSequence ? 0 : OffsetOf(floor);
            JsonLineScanner.Forward(Messages, start, Length, (line, offset) =>
            {
                if (!JsonMessageLine.TryRead(line, sessionId, out var message))
                {
                    store.ReportDamaged(offset, line.Length);
                    return true;
                }

                if (message!.Sequence >= before)
                {
                    return false;
                }

                if (message.Sequence >= floor)
                {
                    result.Add(message);
                }

                return result.Count < count;
            });
        }

        return result;
    }

    private SafeFileHandle Messages => _messages ??= File.OpenHandle(MessagesPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);

    /// <summary>The offset of the first committed line whose sequence is at least <paramref name="sequence"/> (Length when none).</summary>
    private long OffsetOf(long sequence) =>
        JsonSequenceSearch.OffsetOfFirstAtLeast(Messages, Length, sequence, FirstLineSequence, LastLineSequence);

    private void ResetMessages()
    {
        CloseFiles();
        _incarnation = null;
        Length = 0;
        FirstLineSequence = 0;
        LastLineSequence = 0;
        LastAt = null;

        // The mapping stays (it is checked against the new state before its next use), but not its check.
        _idsChecked = false;
    }

    private void CatchUp(JsonStore store, long length)
    {
        var tail = JsonMessagesFile.FindTail(Messages, Length, length);
        if (tail.LastSequence > 0)
        {
            LastLineSequence = tail.LastSequence;
            LastAt = tail.LastAt;
        }

        if (FirstLineSequence == 0)
        {
            FirstLineSequence = JsonMessagesFile.FirstSequence(Messages, 0, tail.CommittedEnd);
        }

        Repair(store, tail.CommittedEnd, length);
    }

    private void Repair(JsonStore store, long committed, long length)
    {
        Length = committed;
        if (length > committed)
        {
            // We hold the lock, so nobody is writing: bytes past the last committed line are a crashed writer's leftovers.
            RandomAccess.SetLength(Messages, committed);
            store.ReportTornTail(length - committed);
        }
    }

    /// <summary>
    /// The session's id file, checked once per lease and caught up with every committed line. The table is derived data:
    /// whatever does not check out is replaced by an empty table and rebuilt from the messages file by one forward pass.
    /// </summary>
    private JsonIdFile Ids(JsonStore store)
    {
        if (!_idsChecked || _ids is not { IsOpen: true })
        {
            OpenIds(store);
            _idsChecked = true;
        }

        var ids = _ids!;
        if (ids.IndexedThrough < Length)
        {
            // A writer died between its lines and their slots, or wrote without the table (an import): index the
            // missing lines. Slots already present are left alone, so indexing a line twice is harmless.
            CatchUpIds(store, ids);
        }

        return ids;
    }

    private void OpenIds(JsonStore store)
    {
        var incarnation = JsonIdFile.HashIncarnation(Document!.Incarnation);
        if (_ids is { } mapped && (!mapped.IsOpen || mapped.Superseded || !Describes(mapped, incarnation)))
        {
            // Replaced by another process (grown or rebuilt), or no longer matching the file: look at the path again.
            CloseIds(store);
        }

        if (_ids is null)
        {
            var opened = JsonIdFile.TryOpen(IdsPath);
            if (opened is not null)
            {
                store.CountMappedIds(1);
                _ids = opened;
                if (opened.Superseded)
                {
                    // A writer died between marking this file superseded and renaming its replacement over it: nothing
                    // was written to it after the mark, so its table is whole.
                    opened.Reinstate();
                }

                // After a reboot only the checkpointed part is certain (IndexedThrough goes back to SyncedThrough).
                opened.DropUnsyncedIfRebooted();
                if (!Describes(opened, incarnation) || !LastIndexedLineIsIn(opened))
                {
                    Rebuild(store, incarnation);
                }
            }
            else
            {
                Rebuild(store, incarnation);
            }
        }
    }

    /// <summary>Whether a table indexes this incarnation of the messages file, up to a point within its committed part.</summary>
    private bool Describes(JsonIdFile ids, ulong incarnation) => ids.Incarnation == incarnation && ids.IndexedThrough <= Length;

    /// <summary>
    /// Checks, with one small read, that the table's IndexedThrough ends a line whose id the table proposes: a table that
    /// describes another file of the same length (one copied or restored by hand) is caught before it is trusted.
    /// </summary>
    private bool LastIndexedLineIsIn(JsonIdFile ids)
    {
        var through = ids.IndexedThrough;
        if (through == 0)
        {
            return true;
        }

        var ok = false;
        Span<byte> last = stackalloc byte[1];
        if (RandomAccess.Read(Messages, last, through - 1) != 1 || last[0] != (byte)'\n')
        {
            return false;
        }

        JsonLineScanner.Backward(Messages, Math.Max(0, through - (64 * 1024)), through, (line, offset) =>
        {
            if (!JsonMessageLine.TryReadHeader(line, out var sequence, out var id, out _, out _))
            {
                ok = true; // a damaged line has no slot to look for
                return false;
            }

            ids.Candidates(JsonSessionKey.HashOf(id!), LastLineSequence, _candidates);
            ok = _candidates.Contains(sequence);
            return false;
        }, 4096);
        return ok;
    }

    /// <summary>Replaces the id file with an empty table for this incarnation; the caller's catch-up fills it from the messages file.</summary>
    private void Rebuild(JsonStore store, ulong incarnation)
    {
        var old = _ids;
        _ids = null;
        if (old is not null)
        {
            store.CountMappedIds(-1); // closed by Create, which marks it superseded first
        }

        var lines = LastLineSequence > 0 ? LastLineSequence - FirstLineSequence + 1 : 0;
        try
        {
            _ids = JsonIdFile.Create(IdsPath, incarnation, lines, old);
            store.CountMappedIds(1);
        }
        finally
        {
            // Create closes the old mapping once it is superseded; when it failed before that, close it here.
            old?.Dispose();
        }
    }

    private void CatchUpIds(JsonStore store, JsonIdFile ids)
    {
        // Memory stays bounded by the scan's block, whatever the file's size.
        JsonLineScanner.Forward(Messages, ids.IndexedThrough, Length, (line, offset) =>
        {
            if (JsonMessageLine.TryReadHeader(line, out var sequence, out var id, out _, out _))
            {
                ids.Add(JsonSessionKey.HashOf(id!), sequence);
            }
            else
            {
                store.ReportDamaged(offset, line.Length);
            }

            ids.IndexedThrough = offset + line.Length + 1;
            return true;
        }, 256 * 1024);
    }

    private ChatMessage? FindStored(JsonStore store, JsonIdFile ids, string id)
    {
        var floor = Document!.FirstSequence;
        ids.Candidates(JsonSessionKey.HashOf(id), LastLineSequence, _candidates);
        foreach (var sequence in _candidates)
        {
            if (sequence >= floor && ReadAt(store, sequence) is { } stored && string.Equals(stored.Id, id, StringComparison.Ordinal))
            {
                return stored;
            }
        }

        return null;
    }

    private ChatMessage? ReadAt(JsonStore store, long sequence)
    {
        var start = OffsetOf(sequence);
        ChatMessage? found = null;
        JsonLineScanner.Forward(Messages, start, Length, (line, offset) =>
        {
            if (JsonMessageLine.TryRead(line, Document!.SessionId, out var message) && message!.Sequence == sequence)
            {
                found = message;
            }
            else if (message is null)
            {
                store.ReportDamaged(offset, line.Length);
            }

            return false;
        }, 4096);
        return found;
    }

    private void WriteLines(JsonStore store, List<ChatMessage> lines, DateTimeOffset? at)
    {
        _buffer.ResetWrittenCount();
        _writer ??= new Utf8JsonWriter(_buffer, JsonMessageLine.WriterOptions);
        for (var i = 0; i < lines.Count; i++)
        {
            JsonMessageLine.Write(_writer, _buffer, lines[i], at, more: i < lines.Count - 1);
        }

        // The lines first, then their slots, then IndexedThrough: a writer killed in between leaves IndexedThrough behind
        // the file, and the next lock holder indexes the lines it missed. An import writes without the table when this
        // lease has not opened it; the next append catches up the same way.
        var ids = _idsChecked && _ids is { IsOpen: true } open && open.IndexedThrough == Length ? open : null;
        ids?.EnsureRoom(lines.Count);
        RandomAccess.Write(Messages, _buffer.WrittenSpan, Length);
        if (store.FlushToDisk)
        {
            RandomAccess.FlushToDisk(Messages);
        }

        for (var i = 0; i < lines.Count; i++)
        {
            ids?.Add(JsonSessionKey.HashOf(lines[i].Id), lines[i].Sequence);
            if (FirstLineSequence == 0)
            {
                FirstLineSequence = lines[i].Sequence;
            }

            LastLineSequence = lines[i].Sequence;
        }

        Length += _buffer.WrittenCount;
        if (ids is not null)
        {
            ids.IndexedThrough = Length;
        }

        LastAt = at;
        if (_buffer.Capacity > 1024 * 1024)
        {
            // Do not keep a huge batch's buffer alive for the session's lifetime.
            _buffer = new ArrayBufferWriter<byte>(4096);
        }
    }
}
