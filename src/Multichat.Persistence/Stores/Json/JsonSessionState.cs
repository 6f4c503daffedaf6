using Multichat.Persistence.Caching;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// What one store instance knows of one session folder: its record (<c>session.json</c>), its messages file and id index,
/// and its cross-process lock. Every member is used only while the lease's gate is held; the file state is trusted only
/// while the lock is held (after <see cref="Validate"/> caught up with what other processes wrote since).
/// </summary>
internal sealed class JsonSessionState(string key, string folder, int slot, FileCreator files)
{
    private readonly List<ChatMessage> _fresh = [];
    private string? _incarnation;

    public string Key { get; } = key;

    public string Folder { get; } = folder;

    public string SessionPath { get; } = Path.Combine(folder, "session.json");

    public JsonSessionLease Lease { get; } = new(folder, slot);

    public JsonMessageLog Log { get; } = new(Path.Combine(folder, "messages.jsonl"), files);

    public JsonIdIndex Ids { get; } = new(Path.Combine(folder, "ids.idx"));

    /// <summary>The participants' marked read cursors (<c>reads.json</c>).</summary>
    public JsonReadCursors Reads { get; } = new(folder);

    /// <summary>
    /// Set under the gate when the store dropped this state from its cache (see JsonStore.EvictIdle). A caller that
    /// fetched it before and then took the gate must look the session up again, never use it.
    /// </summary>
    public bool Evicted { get; private set; }

    /// <summary>The session record, or null when the session does not exist.</summary>
    public JsonSessionDocument? Document { get; private set; }

    public long LastSequence => Math.Max(Document?.LastSequence ?? 0, Log.LastLineSequence);

    public long MessageCount => Count(Document!, Log.FirstLineSequence, Log.LastLineSequence);

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

    /// <summary>The head as <see cref="Snapshot"/> would report it, from the record and the messages file's known lines alone.</summary>
    public SessionHead Head => new(Document!.Epoch, Document.Version, LastSequence, MessageCount);

    public ChatSession Snapshot() => ToSession(Document!, Log.FirstLineSequence, Log.LastLineSequence, Log.LastAt);

    /// <summary>Catches up with the folder after taking the lock: re-reads the record, the file's new lines, and repairs a torn tail.</summary>
    public void Validate(JsonStoreContext context)
    {
        // A restore cut short between its commit and its renames is finished first (see JsonSessionReplacement).
        JsonSessionReplacement.Recover(context, this);

        // Another process may have replaced, grown or rebuilt the id file, or marked cursors, since our last lease.
        Ids.Uncheck();
        Reads.Forget();
        Document = context.ReadDocument(SessionPath);
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

        var length = RandomAccess.GetLength(Log.Handle);
        if (length < Log.Length)
        {
            // Shorter than what we knew committed: replaced behind our back without a new incarnation. Start over, and
            // open the id file again so it is verified against the new file before it is trusted.
            ResetMessages();
            Ids.Close(context);
            _incarnation = Document.Incarnation;
        }

        if (length > Log.Length)
        {
            RaiseIssued(context, Log.CatchUp(context, length));
        }

        if (Log.LastLineSequence == 0)
        {
            // No line left (the file was deleted, emptied or replaced by garbage): what the id file saw issued stays
            // issued. Costs one small read, and only for sessions without a readable line.
            RaiseIssued(context, JsonIdFile.PeekHighest(Ids.Path));
        }
    }

    /// <summary>Makes <paramref name="issued"/> part of the record when it is above what the record and the file know: it is never issued again.</summary>
    private void RaiseIssued(JsonStoreContext context, long issued)
    {
        var document = Document!;
        if (issued <= LastSequence)
        {
            return;
        }

        context.ReportLostSequences(Log.LastLineSequence, issued);
        document.LastSequence = issued;
        if (Log.LastLineSequence == 0)
        {
            document.Gaps = 0; // the gaps counted lines that are gone
        }

        context.WriteDocument(SessionPath, document);
    }

    /// <summary>
    /// Marks the state evicted and closes its messages file and id file mapping, as the store's dispose does. The caller
    /// holds the gate, the lock is not held (no lease to end), and the state is already out of the store's cache.
    /// </summary>
    public void Evict(JsonStoreContext context)
    {
        Evicted = true;
        Log.Close();
        Ids.Close(context);
        Forget();
    }

    /// <summary>Gives up cached file state; the next <see cref="Validate"/> reads it again.</summary>
    public void Forget()
    {
        ResetMessages();
        Reads.Forget();
        Document = null;
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
    public void EndLease(JsonStoreContext context, bool final, bool unmap)
    {
        if (Document is not null && (context.FlushToDisk || final))
        {
            Ids.Checkpoint(Log, flushed: context.FlushToDisk, context.Faults);
        }

        if (unmap)
        {
            Ids.Close(context);
        }

        Log.Close();
    }

    /// <summary>
    /// Stores the messages whose ids are new, after the stored originals are looked up. Under a <paramref name="limit"/>
    /// that rejects, a batch whose new messages would take <see cref="MessageCount"/> past it throws before anything is
    /// written (no line, no sequence); one of stored ids only is answered as ever.
    /// </summary>
    public IReadOnlyList<ChatMessage> Append(JsonStoreContext context, IReadOnlyList<ChatMessage> messages, DateTimeOffset now, MessageLimit limit)
    {
        var ids = Ids.Open(context, Log, Document!.Incarnation);
        RaiseIssued(context, ids.Highest);
        var next = LastSequence;
        var first = next + 1;
        var stored = BatchSequencer.Assign(
            messages, ref next, now, (State: this, Context: context, Ids: ids), static (s, id) => s.State.Ids.FindStored(s.Context, s.State.Log, s.State.Document!, s.Ids, id));
        if (next > JsonMessageLine.MaxSequence)
        {
            // Only a file edited to hold a sequence at the bound gets here (the readers refuse one above it); nothing is written.
            throw new StoreCorruptedException(
                $"Session '{Document.SessionId}' of the Json store at '{context.Root}' cannot be given sequence {next}: its files say {first - 1} were issued, and sequences stop at {JsonMessageLine.MaxSequence}. A file was edited; restore the session from a backup.");
        }

        var added = (int)(next - first + 1);
        if (limit.Refuses(MessageCount, added))
        {
            throw QuotaExceededException.ForMessages(Document.SessionId, MessageCount, added, limit.MaxMessages);
        }

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

            // Sequences issued but without a line (lost, or set aside as damaged) lie between the file's last line and
            // these: the record counts them as gaps first, so MessageCount stays the number of lines.
            var document = Document!;
            var skipped = Log.LastLineSequence > 0 ? first - Log.LastLineSequence - 1 : 0;
            if (skipped > 0)
            {
                document.Gaps += skipped;
                document.LastSequence = first - 1;
                context.WriteDocument(SessionPath, document);
            }

            Log.Write(context, _fresh, now, Ids.Current(Log.Length));
            _fresh.Clear();
        }

        return stored;
    }

    public void Import(JsonStoreContext context, IReadOnlyList<ChatMessage> messages)
    {
        ImportChecks.EnsureAscending(messages, Log.LastLineSequence);
        var document = Document!;
        var gaps = document.Gaps;
        var lastLine = Log.LastLineSequence;

        // Sequences missing between the last visible message (or the trim floor) and the imported ones count as gaps.
        var previous = MessageCount > 0 ? lastLine
            : document.FirstSequence > 0 || lastLine > 0 ? Math.Max(document.FirstSequence, lastLine + 1) - 1
            : messages[0].Sequence - 1;

        var copies = new List<ChatMessage>(messages.Count);
        foreach (var message in messages)
        {
            gaps += message.Sequence - previous - 1;
            previous = message.Sequence;
            copies.Add(MessageRecords.Imported(message));
        }

        // Written without the table when this lease has not opened it; the next append catches up.
        Log.Write(context, copies, at: null, Ids.Current(Log.Length));
        if (gaps != document.Gaps)
        {
            document.Gaps = gaps;
            context.WriteDocument(SessionPath, document);
        }
    }

    /// <summary>Removes the oldest messages beyond <paramref name="keep"/>; compacts the file when asked or when most of it is dead.</summary>
    public long Trim(JsonStoreContext context, long keep, bool compact)
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
            newFirst = Log.LastLineSequence - keep + 1;
        }
        else
        {
            // With gaps, the keep-th message from the end is found by walking back over exactly that many lines.
            (newFirst, var seen) = Log.FindKeptFrom(document.FirstSequence, keep);
            gaps = keep > 0 ? Log.LastLineSequence - newFirst + 1 - seen : 0;
        }

        var dead = newFirst - Math.Max(document.FirstSequence, Log.FirstLineSequence);
        var snapshot = Snapshot();
        document.FirstSequence = newFirst;
        document.Gaps = gaps;
        document.LastSequence = snapshot.LastSequence;
        document.UpdatedAt = snapshot.UpdatedAt;
        compact |= dead >= Math.Max(keep, 256);
        if (!compact)
        {
            context.WriteDocument(SessionPath, document);
            return count - keep;
        }

        // The record with its new floor and a new incarnation goes first: if the process dies before the file is replaced,
        // the floor already hides the trimmed lines and other processes re-read the file anyway.
        var cut = Log.OffsetOf(newFirst);
        document.Incarnation = JsonStoreContext.NewIncarnation();
        context.WriteDocument(SessionPath, document);
        Log.Compact(context, cut);

        // The id file indexes the old incarnation: drop it now (it may be far bigger than what is left); the next append
        // builds one for the new file from its kept lines.
        Ids.Delete(context);
        ResetMessages();
        _incarnation = document.Incarnation;
        Validate(context);
        return count - keep;
    }

    /// <summary>
    /// Deletes the record first (the session is gone from then on), then the messages, their id file and the read cursors;
    /// the folder and its lock stay. Cursors left by a delete cut short belong to the old epoch and are never read as the
    /// next life's.
    /// </summary>
    public void Delete(JsonStoreContext context)
    {
        context.Faults?.Reach(JsonFaultPoints.DeleteBeforeRecord);
        File.Delete(SessionPath);
        context.Faults?.Reach(JsonFaultPoints.DeleteAfterRecord);
        Log.Close();
        File.Delete(Log.Path);
        context.Faults?.Reach(JsonFaultPoints.DeleteAfterMessages);
        File.Delete(Log.Path + ".damaged");
        context.Faults?.Reach(JsonFaultPoints.DeleteAfterDamaged);
        Ids.Delete(context);
        Reads.Delete();
        Forget();
    }

    /// <summary>
    /// Writes a new record with no messages: a created or imported session. A replaced session's record goes first, as in
    /// <see cref="Delete"/>: a failure or crash part way leaves the session absent (or new), never the old record without
    /// its messages, whose LastSequence could then be behind the sequences it issued.
    /// </summary>
    public void Reset(JsonStoreContext context, JsonSessionDocument document)
    {
        Log.Close();
        context.Faults?.Reach(JsonFaultPoints.ResetBeforeDeleteRecord);
        File.Delete(SessionPath);
        context.Faults?.Reach(JsonFaultPoints.ResetAfterDeleteRecord);
        File.Delete(Log.Path);
        context.Faults?.Reach(JsonFaultPoints.ResetAfterDeleteMessages);
        Ids.Delete(context);
        Reads.Delete();
        ResetMessages();
        context.WriteDocument(SessionPath, document);
        Document = document;
        _incarnation = document.Incarnation;
    }

    public void Replace(JsonStoreContext context, JsonSessionDocument document)
    {
        context.WriteDocument(SessionPath, document);
        Document = document;
    }

    public List<ChatMessage> Fetch(JsonStoreContext context, MessageQuery query, int count) =>
        Log.Fetch(context, Document!.SessionId, Document.FirstSequence, query, count);

    private void ResetMessages()
    {
        Log.Reset();
        _incarnation = null;

        // The mapping stays (it is checked against the new state before its next use), but not its check.
        Ids.Uncheck();
    }
}
