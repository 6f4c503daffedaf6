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
    // One in every SparseEvery lines has its (sequence, offset) kept in memory: a page starting at any sequence seeks there
    // and reads at most that many lines more.
    private const int SparseEvery = 64;

    private readonly List<ChatMessage> _fresh = [];
    private readonly List<long> _offsets = [];
    private ArrayBufferWriter<byte> _buffer = new(4096);
    private Utf8JsonWriter? _writer;
    private string? _incarnation;
    private SafeFileHandle? _messages;

    // The idempotency index: id hash → sequence, built on first need by one pass over the file; null until then.
    private JsonIdIndex? _ids;
    private readonly List<long> _candidates = [];
    private List<(long Sequence, long Offset)>? _sparse;
    private long _indexedLines;

    public string Key { get; } = key;

    public string Folder { get; } = folder;

    public int Slot { get; } = slot;

    public string SessionPath { get; } = Path.Combine(folder, "session.json");

    public string MessagesPath { get; } = Path.Combine(folder, "messages.jsonl");

    public string LockPath { get; } = Path.Combine(folder, ".lock");

    public string WantPath { get; } = Path.Combine(folder, ".want");

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
            // Shorter than what we knew committed: replaced behind our back without a new incarnation. Start over.
            ResetMessages();
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

    public IReadOnlyList<ChatMessage> Append(JsonStore store, IReadOnlyList<ChatMessage> messages, DateTimeOffset now)
    {
        EnsureIndex(store);
        var next = LastSequence;
        var first = next + 1;
        var stored = BatchSequencer.Assign(messages, ref next, now, (State: this, Store: store), static (s, id) => s.State.FindStored(s.Store, id));

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
        EnsureIndex(store, ids: false);
        var cut = OffsetOfFirstAtLeast(newFirst);
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
        ResetMessages();
        _incarnation = document.Incarnation;
        Validate(store);
        return count - keep;
    }

    /// <summary>Deletes the record first (the session is gone from then on), then the messages; the folder and its lock stay.</summary>
    public void Delete()
    {
        File.Delete(SessionPath);
        CloseFiles();
        File.Delete(MessagesPath);
        Forget();
    }

    /// <summary>Writes a new record with no messages: a created or imported session.</summary>
    public void Reset(JsonStore store, JsonSessionDocument document)
    {
        CloseFiles();
        File.Delete(MessagesPath);
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
            var end = before > LastLineSequence ? Length : Seek(store, before);
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
            var start = floor <= FirstLineSequence ? 0 : Seek(store, floor);
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

    private long Seek(JsonStore store, long sequence)
    {
        EnsureIndex(store, ids: false);
        return OffsetOfFirstAtLeast(sequence);
    }

    private void ResetMessages()
    {
        CloseFiles();
        _incarnation = null;
        Length = 0;
        FirstLineSequence = 0;
        LastLineSequence = 0;
        LastAt = null;
        _ids = null;
        _sparse = null;
        _indexedLines = 0;
    }

    private void CatchUp(JsonStore store, long length)
    {
        if (_sparse is not null)
        {
            // Index every new committed line; lines of an unfinished batch wait for its last line.
            var pending = new List<(long Sequence, string Id, long Offset)>();
            var committed = Length;
            JsonLineScanner.Forward(Messages, Length, length, (line, offset) =>
            {
                if (!JsonMessageLine.TryReadHeader(line, out var sequence, out var id, out var at, out var more))
                {
                    store.ReportDamaged(offset, line.Length);
                    return true;
                }

                pending.Add((sequence, id!, offset));
                if (!more)
                {
                    foreach (var (s, i, o) in pending)
                    {
                        IndexLine(s, i, o);
                    }

                    pending.Clear();
                    committed = offset + line.Length + 1;
                    LastAt = at;
                }

                return true;
            });
            Repair(store, committed, length);
        }
        else
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
    /// Builds the sparse offset index, and with <paramref name="ids"/> the idempotency index, by one pass over the file.
    /// Readers only need the first, so a process that only pages through history never holds an id per message.
    /// </summary>
    private void EnsureIndex(JsonStore store, bool ids = true)
    {
        if (_sparse is not null && (_ids is not null || !ids))
        {
            return;
        }

        _ids = ids ? new JsonIdIndex() : null;
        _sparse = [];
        _indexedLines = 0;
        var known = Length;
        var lastAt = LastAt;
        Length = 0;
        FirstLineSequence = 0;
        LastLineSequence = 0;
        JsonLineScanner.Forward(Messages, 0, known, (line, offset) =>
        {
            if (!JsonMessageLine.TryReadHeader(line, out var sequence, out var id, out _, out _))
            {
                store.ReportDamaged(offset, line.Length);
                return true;
            }

            IndexLine(sequence, id!, offset);
            return true;
        }, 256 * 1024);
        Length = known;
        LastAt = lastAt;
    }

    private void IndexLine(long sequence, string id, long offset)
    {
        if (_sparse is null)
        {
            return;
        }

        if (_indexedLines++ % SparseEvery == 0)
        {
            _sparse.Add((sequence, offset));
        }

        // A trimmed id written again leaves a stale entry beside the new one; lookups skip it, compaction drops it.
        _ids?.Add(JsonSessionKey.HashOf(id), sequence);

        if (FirstLineSequence == 0)
        {
            FirstLineSequence = sequence;
        }

        LastLineSequence = sequence;
    }

    private ChatMessage? FindStored(JsonStore store, string id)
    {
        var floor = Document!.FirstSequence;
        _ids!.Candidates(JsonSessionKey.HashOf(id), LastLineSequence, _candidates);
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
        var start = OffsetOfFirstAtLeast(sequence);
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

    /// <summary>The offset of the first line whose sequence is at least <paramref name="sequence"/> (Length when none).</summary>
    private long OffsetOfFirstAtLeast(long sequence)
    {
        var sparse = _sparse!;
        int lo = 0, hi = sparse.Count - 1, best = -1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            if (sparse[mid].Sequence <= sequence)
            {
                best = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        var start = best < 0 ? 0 : sparse[best].Offset;
        var found = Length;
        JsonLineScanner.Forward(Messages, start, Length, (line, offset) =>
        {
            if (JsonMessageLine.TryReadHeader(line, out var s, out _, out _, out _) && s >= sequence)
            {
                found = offset;
                return false;
            }

            return true;
        }, 32 * 1024);
        return found;
    }

    private void WriteLines(JsonStore store, List<ChatMessage> lines, DateTimeOffset? at)
    {
        _buffer.ResetWrittenCount();
        _writer ??= new Utf8JsonWriter(_buffer, JsonMessageLine.WriterOptions);
        _offsets.Clear();
        for (var i = 0; i < lines.Count; i++)
        {
            _offsets.Add(Length + _buffer.WrittenCount);
            JsonMessageLine.Write(_writer, _buffer, lines[i], at, more: i < lines.Count - 1);
        }

        RandomAccess.Write(Messages, _buffer.WrittenSpan, Length);
        if (store.FlushToDisk)
        {
            RandomAccess.FlushToDisk(Messages);
        }

        for (var i = 0; i < lines.Count; i++)
        {
            if (_sparse is not null)
            {
                IndexLine(lines[i].Sequence, lines[i].Id, _offsets[i]);
            }
            else
            {
                if (FirstLineSequence == 0)
                {
                    FirstLineSequence = lines[i].Sequence;
                }

                LastLineSequence = lines[i].Sequence;
            }
        }

        Length += _buffer.WrittenCount;
        LastAt = at;
        if (_buffer.Capacity > 1024 * 1024)
        {
            // Do not keep a huge batch's buffer alive for the session's lifetime.
            _buffer = new ArrayBufferWriter<byte>(4096);
        }
    }

}
