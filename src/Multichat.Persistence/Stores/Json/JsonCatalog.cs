using Microsoft.Win32.SafeHandles;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// The session records of a store instance, kept in memory for listing and counting, and kept current across
/// processes by the <see cref="JsonActivityBoard"/>: each call reads the board and re-reads only the sessions whose
/// slot changed (or is held by a writer right now), and the folder list only when sessions were created or deleted.
/// </summary>
internal sealed class JsonCatalog(JsonStoreContext context)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, ChatSession> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<int, HashSet<string>> _bySlot = [];
    private ulong[] _seen = new ulong[JsonActivityBoard.Slots];
    private ulong[] _now = new ulong[JsonActivityBoard.Slots];
    private ChatSession[] _snapshot = [];
    private bool _loaded;
    private bool _dirty;

    public ChatSession[] Sessions()
    {
        lock (_gate)
        {
            Refresh();
            if (_dirty)
            {
                _snapshot = [.. _sessions.Values];
                _dirty = false;
            }

            return _snapshot;
        }
    }

    /// <summary>
    /// The session <see cref="JsonStore.ListSessionsAsync"/> lists last (the oldest <see cref="ChatSession.UpdatedAt"/>,
    /// then the lowest id), leaving out the ids in <paramref name="except"/>; null when no other session is listed. One
    /// pass over the cached records after the usual refresh: no session's messages are read beyond what listing reads.
    /// </summary>
    public ChatSession? LeastRecentlyActive(IReadOnlySet<string> except)
    {
        ChatSession? last = null;
        foreach (var session in Sessions())
        {
            if (!except.Contains(session.SessionId) && (last is null || SessionCursor.CompareForListing(session, last) > 0))
            {
                last = session;
            }
        }

        return last;
    }

    private void Refresh()
    {
        // The board is read before the files, so a change made while we read is seen as a change next time.
        context.Board.ReadAll(_now);
        if (!_loaded || _now[0] != _seen[0])
        {
            var present = new HashSet<string>(StringComparer.Ordinal);
            foreach (var folder in Directory.EnumerateDirectories(context.SessionsFolder))
            {
                var key = Path.GetFileName(folder);
                present.Add(key);
                var slot = JsonSessionKey.SlotOf(key, JsonActivityBoard.Slots);
                if (!_loaded || !_sessions.ContainsKey(key) || Changed(slot))
                {
                    Load(key, slot);
                }
            }

            foreach (var key in _sessions.Keys.Where(k => !present.Contains(k)).ToList())
            {
                Remove(key);
            }

            _loaded = true;
        }
        else
        {
            for (var slot = 1; slot < _now.Length; slot++)
            {
                if (Changed(slot) && _bySlot.TryGetValue(slot, out var keys))
                {
                    foreach (var key in keys.ToList())
                    {
                        Load(key, slot);
                    }
                }
            }
        }

        (_seen, _now) = (_now, _seen);
    }

    private bool Changed(int slot) => _now[slot] != _seen[slot] || (_now[slot] & JsonActivityBoard.HeldBit) != 0;

    private void Load(string key, int slot)
    {
        var folder = Path.Combine(context.SessionsFolder, key);
        // A restore cut short after its commit point is listed as restored, before the next lock holder renames its files.
        var (sessionPath, messagesPath) = JsonSessionReplacement.ListedFiles(folder);
        JsonSessionDocument? document;
        try
        {
            document = File.Exists(sessionPath) ? context.ReadDocument(sessionPath) : null;
        }
        catch (StoreCorruptedException)
        {
            // Counted and logged by the reader; a damaged record is left out of listings and counts (health says Degraded).
            document = null;
        }

        if (document is not null && !string.Equals(JsonSessionKey.For(document.SessionId), key, StringComparison.Ordinal))
        {
            // Edited by hand, or moved from another folder: it must not be listed under (or beside) another session's id.
            _ = context.DamagedRecord("holds the id of another folder's session", null);
            document = null;
        }

        if (document is null)
        {
            Remove(key);
            return;
        }

        long first = 0, last = 0;
        DateTimeOffset? at = null;
        if (File.Exists(messagesPath))
        {
            try
            {
                using SafeFileHandle messages = File.OpenHandle(messagesPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var tail = JsonMessagesFile.FindTail(messages, 0, RandomAccess.GetLength(messages));
                last = tail.LastSequence;
                at = tail.LastAt;
                first = JsonMessagesFile.FirstSequence(messages, 0, tail.CommittedEnd);
            }
            catch (FileNotFoundException)
            {
                // Deleted or replaced between the check and the open: the record read above still counts.
            }
        }

        _sessions[key] = JsonSessionState.ToSession(document, first, last, at);
        if (!_bySlot.TryGetValue(slot, out var keys))
        {
            _bySlot[slot] = keys = new HashSet<string>(StringComparer.Ordinal);
        }

        keys.Add(key);
        _dirty = true;
    }

    private void Remove(string key)
    {
        if (_sessions.Remove(key))
        {
            _bySlot.GetValueOrDefault(JsonSessionKey.SlotOf(key, JsonActivityBoard.Slots))?.Remove(key);
            _dirty = true;
        }
    }
}
