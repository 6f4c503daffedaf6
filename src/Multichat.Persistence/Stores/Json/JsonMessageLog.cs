using System.Buffers;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// A session's <c>messages.jsonl</c> as this instance knows it: the open handle, the committed length, and the first and
/// last sequences of its lines. Append-only; read by seeking, never whole. Trusted only under the session's lock, after
/// the session state caught up with what other processes wrote.
/// </summary>
internal sealed class JsonMessageLog(string path, FileCreator files)
{
    private ArrayBufferWriter<byte> _buffer = new(4096);
    private Utf8JsonWriter? _writer;
    private SafeFileHandle? _handle;

    public string Path { get; } = path;

    /// <summary>Bytes of committed lines.</summary>
    public long Length { get; private set; }

    public long FirstLineSequence { get; private set; }

    public long LastLineSequence { get; private set; }

    public DateTimeOffset? LastAt { get; private set; }

    public SafeFileHandle Handle => _handle ??= files.OpenHandle(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);

    public void Close()
    {
        _handle?.Dispose();
        _handle = null;
    }

    /// <summary>Closes the file and forgets what was known of it; the next catch-up reads it again.</summary>
    public void Reset()
    {
        Close();
        Length = 0;
        FirstLineSequence = 0;
        LastLineSequence = 0;
        LastAt = null;
    }

    /// <summary>
    /// Reads the lines other processes committed past <see cref="Length"/>, up to <paramref name="length"/>, and repairs a
    /// torn tail. Returns the sequence of a whole message found damaged in that tail (0 when none): the caller keeps it issued.
    /// </summary>
    public long CatchUp(JsonStoreContext context, long length)
    {
        var tail = JsonMessagesFile.FindTail(Handle, Length, length);
        if (tail.LastSequence > 0)
        {
            LastLineSequence = tail.LastSequence;
            LastAt = tail.LastAt;
        }

        if (FirstLineSequence == 0)
        {
            FirstLineSequence = JsonMessagesFile.FirstSequence(Handle, 0, tail.CommittedEnd);
        }

        Length = tail.CommittedEnd;
        long damaged = 0;
        if (length > tail.CommittedEnd)
        {
            // We hold the lock, so nobody is writing: bytes past the last committed line are a crashed writer's leftovers,
            // or a whole line whose line break was damaged. Either way they are kept aside, never destroyed.
            damaged = SetAside(context, tail.CommittedEnd, length);
            context.Faults?.Reach(JsonFaultPoints.LogBeforeTruncate);
            RandomAccess.SetLength(Handle, tail.CommittedEnd);
            context.Faults?.Reach(JsonFaultPoints.LogAfterTruncate);
        }

        return damaged;
    }

    /// <summary>
    /// Appends [<paramref name="start"/>, <paramref name="end"/>) to <c>messages.jsonl.damaged</c>, and tells a torn write
    /// (an unfinished last line: reported as a repair) from a whole message whose last byte was damaged (its JSON is complete:
    /// reported as damage, and its sequence returned so it is never issued again).
    /// </summary>
    private long SetAside(JsonStoreContext context, long start, long end)
    {
        var bytes = new byte[end - start];
        RandomAccess.Read(Handle, bytes, start);
        context.Faults?.Reach(JsonFaultPoints.DamagedBeforeWrite);
        using (var aside = files.Open(Path + ".damaged", FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1))
        {
            aside.Write(bytes);
            context.Faults?.Reach(JsonFaultPoints.DamagedAfterWrite);
            aside.Flush(context.FlushToDisk);
            context.Faults?.Reach(JsonFaultPoints.DamagedAfterFlush);
        }

        var piece = bytes.AsSpan(bytes.AsSpan().LastIndexOf((byte)'\n') + 1);
        if (piece.Length > 0 && (JsonMessageLine.TryReadHeader(piece, out var sequence, out _, out _, out _)
            || JsonMessageLine.TryReadHeader(piece[..^1], out sequence, out _, out _, out _)))
        {
            context.ReportDamagedTail(start, bytes.Length);
            return sequence;
        }

        context.ReportTornTail(bytes.Length);
        return 0;
    }

    /// <summary>The offset of the first committed line whose sequence is at least <paramref name="sequence"/> (Length when none).</summary>
    public long OffsetOf(long sequence) =>
        JsonSequenceSearch.OffsetOfFirstAtLeast(Handle, Length, sequence, FirstLineSequence, LastLineSequence);

    /// <summary>
    /// Appends the lines with one positioned write, then records them in <paramref name="ids"/> (null: written without the
    /// table, which the next append catches up with).
    /// </summary>
    public void Write(JsonStoreContext context, List<ChatMessage> lines, DateTimeOffset? at, JsonIdFile? ids)
    {
        _buffer.ResetWrittenCount();
        _writer ??= new Utf8JsonWriter(_buffer, JsonMessageLine.WriterOptions);
        for (var i = 0; i < lines.Count; i++)
        {
            JsonMessageLine.Write(_writer, _buffer, lines[i], at, more: i < lines.Count - 1);
        }

        // The lines first, then their slots, then IndexedThrough: a writer killed in between leaves IndexedThrough behind
        // the file, and the next lock holder indexes the lines it missed.
        ids?.EnsureRoom(lines.Count);
        context.Faults?.Reach(JsonFaultPoints.LogBeforeWrite);
        try
        {
            RandomAccess.Write(Handle, _buffer.WrittenSpan, Length);
        }
        catch (IOException)
        {
            CutBack();
            throw;
        }

        context.Faults?.Reach(JsonFaultPoints.LogAfterWrite);
        if (context.FlushToDisk)
        {
            RandomAccess.FlushToDisk(Handle);
            context.Faults?.Reach(JsonFaultPoints.LogAfterFlush);
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

        context.Faults?.Reach(JsonFaultPoints.LogAfterIndex);
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

    /// <summary>
    /// Takes back what a failed write left past <see cref="Length"/> (a full disk cuts a write short): we hold the lock,
    /// so those bytes are ours and uncommitted. Left there, the next catch-up would have to copy them aside first, and
    /// on a disk that is still full every call on the session, reads included, would fail. Cutting needs no space; if
    /// it fails anyway, the catch-up sets the bytes aside later.
    /// </summary>
    private void CutBack()
    {
        try
        {
            if (RandomAccess.GetLength(Handle) > Length)
            {
                RandomAccess.SetLength(Handle, Length);
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Up to <paramref name="count"/> messages of the query at or above <paramref name="floor"/>, in the query's order.</summary>
    public List<ChatMessage> Fetch(JsonStoreContext context, string sessionId, long floor, MessageQuery query, int count)
    {
        var result = new List<ChatMessage>(Math.Min(count, 1024));
        // After long.MaxValue nothing can follow; adding one would wrap to the smallest long and select everything.
        var after = query.AfterSequence ?? 0;
        floor = Math.Max(floor, after == long.MaxValue ? long.MaxValue : after + 1);
        var before = query.BeforeSequence ?? long.MaxValue;
        if (Length == 0 || floor >= before || floor > LastLineSequence)
        {
            return result;
        }

        if (query.Order == MessageOrder.NewestFirst)
        {
            var end = before > LastLineSequence ? Length : OffsetOf(before);
            JsonLineScanner.Backward(Handle, 0, end, (line, offset) =>
            {
                if (!JsonMessageLine.TryRead(line, sessionId, out var message))
                {
                    context.ReportDamaged(offset, line.Length);
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
            JsonLineScanner.Forward(Handle, start, Length, (line, offset) =>
            {
                if (!JsonMessageLine.TryRead(line, sessionId, out var message))
                {
                    context.ReportDamaged(offset, line.Length);
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

    /// <summary>The message stored at <paramref name="sequence"/>, or null (gone, or its line is damaged).</summary>
    public ChatMessage? ReadAt(JsonStoreContext context, string sessionId, long sequence)
    {
        var start = OffsetOf(sequence);
        ChatMessage? found = null;
        JsonLineScanner.Forward(Handle, start, Length, (line, offset) =>
        {
            if (JsonMessageLine.TryRead(line, sessionId, out var message) && message!.Sequence == sequence)
            {
                found = message;
            }
            else if (message is null)
            {
                context.ReportDamaged(offset, line.Length);
            }

            return false;
        }, 4096);
        return found;
    }

    /// <summary>
    /// The sequence of the <paramref name="keep"/>-th message from the end at or above <paramref name="floor"/>, walking back
    /// over exactly that many lines, and how many of those lines there are (fewer when the file holds fewer).
    /// </summary>
    public (long First, long Seen) FindKeptFrom(long floor, long keep)
    {
        var first = LastLineSequence + 1;
        long seen = 0;
        if (keep > 0)
        {
            JsonLineScanner.Backward(Handle, 0, Length, (line, offset) =>
            {
                if (JsonMessageLine.TryReadHeader(line, out var sequence, out _, out _, out _) && sequence >= floor)
                {
                    first = sequence;
                    seen++;
                }

                return seen < keep;
            });
        }

        return (first, seen);
    }

    /// <summary>Replaces the file with its lines from <paramref name="cut"/> on (copied aside, then renamed over it), and forgets it.</summary>
    public void Compact(JsonStoreContext context, long cut)
    {
        var temp = Path + ".tmp";
        context.Faults?.Reach(JsonFaultPoints.CompactBeforeCopy);
        using (var target = files.Open(temp, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024))
        {
            var block = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                for (var position = cut; position < Length;)
                {
                    var read = RandomAccess.Read(Handle, block.AsSpan(0, (int)Math.Min(block.Length, Length - position)), position);
                    target.Write(block, 0, read);
                    position += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(block);
            }

            context.Faults?.Reach(JsonFaultPoints.CompactAfterCopy);
            target.Flush(context.FlushToDisk);
            context.Faults?.Reach(JsonFaultPoints.CompactAfterFlush);
        }

        Close();
        File.Move(temp, Path, overwrite: true);
        context.Faults?.Reach(JsonFaultPoints.CompactAfterRename);
    }
}
