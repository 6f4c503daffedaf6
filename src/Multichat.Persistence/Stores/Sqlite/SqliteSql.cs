using System.Globalization;
using System.Text;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>Every statement the store runs: parameterised, fixed text, prepared once per connection.</summary>
internal static class SqliteSql
{
    /// <summary>
    /// Joins a session row <c>s</c> with its newest message <c>h</c> (its head), found through the (session_id, seq) key.
    /// Appends write only the message and the activity row, so the head completes what the session row says.
    /// </summary>
    private const string HeadJoin =
        "LEFT JOIN messages AS h ON h.session_id = s.session_id AND h.seq = (SELECT max(seq) FROM messages WHERE session_id = s.session_id)";

    /// <summary>
    /// A session's last activity: its row's time (create, update, and what trims and imports fold in) or its newest
    /// message's append time, whichever is later. <c>session_activity</c> holds exactly this value for every session.
    /// </summary>
    private const string Activity = "max(s.updated_at, coalesce(h.appended_at, s.updated_at))";

    /// <summary>
    /// The columns <see cref="SqliteRecords.ReadSession"/> reads, in its order. The row's last_seq and message_count
    /// are as of the last write that was not an append; appends since then added the sequences above it, gapless.
    /// </summary>
    private const string SessionColumns =
        $"s.session_id, s.participants, s.title, s.metadata, s.created_at, {Activity}, s.version, max(s.last_seq, coalesce(h.seq, 0)), s.message_count + max(0, coalesce(h.seq, 0) - s.last_seq)";

    /// <summary>The columns <see cref="SqliteRecords.ReadMessage"/> reads, in its order.</summary>
    private const string MessageColumns = "seq, id, sender, recipient, content, timestamp, metadata";

    public static readonly SqliteStatement SelectSession = new(
        $"SELECT {SessionColumns} FROM sessions AS s {HeadJoin} WHERE s.session_id = $sid", "$sid");

    /// <summary>What a write needs of a session: its row's counters and time, and its newest message's sequence and append time.</summary>
    public static readonly SqliteStatement SelectHead = new(
        $"SELECT s.last_seq, s.message_count, s.updated_at, h.seq, h.appended_at FROM sessions AS s {HeadJoin} WHERE s.session_id = $sid", "$sid");

    /// <summary>
    /// The head the read cache checks (<see cref="Caching.SessionHead"/>), derived like <see cref="SelectSession"/>'s
    /// counters: the session row by its key and the newest sequence from the (session_id, seq) key alone, never a
    /// message row.
    /// </summary>
    public static readonly SqliteStatement SelectCacheHead = new(
        """
        SELECT s.epoch, s.version, max(s.last_seq, n.seq), s.message_count + max(0, n.seq - s.last_seq)
        FROM sessions AS s, (SELECT coalesce(max(seq), 0) AS seq FROM messages WHERE session_id = $sid) AS n
        WHERE s.session_id = $sid
        """,
        "$sid");

    /// <summary>How many sessions the store holds: the one row the v4 triggers keep (see <see cref="SqliteSchema"/>).</summary>
    public static readonly SqliteStatement SelectSessionCount = new("SELECT sessions FROM session_count WHERE id = 0");

    /// <summary>Recreates a missing count row (a hand edit) by counting: a scan, run only when the row is not there.</summary>
    public static readonly SqliteStatement RestoreSessionCount = new(
        "INSERT OR IGNORE INTO session_count (id, sessions) SELECT 0, count(*) FROM sessions");

    public static readonly SqliteStatement SessionExists = new("SELECT 1 FROM sessions WHERE session_id = $sid", "$sid");

    /// <summary>
    /// The session <c>ListSessionsAsync</c> lists last, which a create under EvictLeastRecentlyActive deletes: the first
    /// key of <c>session_activity</c> (oldest activity, then the lowest id in BINARY, i.e. UTF-8 code-point, order). One seek.
    /// </summary>
    public static readonly SqliteStatement SelectLeastRecentlyActive = new(
        "SELECT updated_at, session_id FROM session_activity ORDER BY updated_at, session_id LIMIT 1");

    /// <summary>
    /// Gives every session without an activity row (a hand edit) its row: a scan, run only when an eviction finds the
    /// activity index empty while the count says the store is full.
    /// </summary>
    public static readonly SqliteStatement RestoreMissingActivity = new(
        $"INSERT INTO session_activity (updated_at, session_id) SELECT {Activity}, s.session_id FROM sessions AS s {HeadJoin} WHERE s.session_id NOT IN (SELECT session_id FROM session_activity)");

    /// <summary>Sets the count row to <c>count(*)</c>: a scan, run only with <see cref="RestoreMissingActivity"/>.</summary>
    public static readonly SqliteStatement RecountSessions = new(
        "UPDATE session_count SET sessions = (SELECT count(*) FROM sessions) WHERE id = 0");

    public static readonly SqliteStatement InsertSession = new(
        """
        INSERT INTO sessions (session_id, participants, title, metadata, created_at, updated_at, version, last_seq, message_count, epoch)
        VALUES ($sid, $participants, $title, $metadata, $created, $updated, $version, $last_seq, 0, $epoch)
        ON CONFLICT (session_id) DO NOTHING
        """,
        "$sid", "$participants", "$title", "$metadata", "$created", "$updated", "$version", "$last_seq", "$epoch");

    public static readonly SqliteStatement InsertActivity = new(
        "INSERT INTO session_activity (updated_at, session_id) VALUES ($updated, $sid)", "$sid", "$updated");

    /// <summary>Moves a session's activity row from <c>$old</c> to <c>$new</c>; changes no row when the old key is not there.</summary>
    public static readonly SqliteStatement MoveActivity = new(
        "UPDATE session_activity SET updated_at = $new WHERE updated_at = $old AND session_id = $sid", "$sid", "$old", "$new");

    public static readonly SqliteStatement DeleteActivity = new(
        "DELETE FROM session_activity WHERE updated_at = $updated AND session_id = $sid", "$sid", "$updated");

    /// <summary>Deletes every activity row of a session, whatever its time: a scan, used only to repair a missing key.</summary>
    public static readonly SqliteStatement DeleteActivityOfSession = new(
        "DELETE FROM session_activity WHERE session_id = $sid", "$sid");

    public static readonly SqliteStatement UpdateSession = new(
        "UPDATE sessions SET participants = $participants, title = $title, metadata = $metadata, version = $version, updated_at = $updated WHERE session_id = $sid",
        "$sid", "$participants", "$title", "$metadata", "$version", "$updated");

    public static readonly SqliteStatement DeleteSession = new("DELETE FROM sessions WHERE session_id = $sid", "$sid");

    public static readonly SqliteStatement InsertParticipant = new(
        "INSERT INTO session_participants (session_id, position, participant) VALUES ($sid, $position, $participant)",
        "$sid", "$position", "$participant");

    public static readonly SqliteStatement DeleteParticipants = new("DELETE FROM session_participants WHERE session_id = $sid", "$sid");

    public static readonly SqliteStatement InsertMessage = new(
        """
        INSERT INTO messages (session_id, seq, id, sender, recipient, content, timestamp, metadata, appended_at)
        VALUES ($sid, $seq, $id, $sender, $recipient, $content, $timestamp, $metadata, $appended)
        ON CONFLICT (session_id, id) DO NOTHING
        """,
        "$sid", "$seq", "$id", "$sender", "$recipient", "$content", "$timestamp", "$metadata", "$appended");

    public static readonly SqliteStatement ImportMessage = new(
        """
        INSERT INTO messages (session_id, seq, id, sender, recipient, content, timestamp, metadata)
        VALUES ($sid, $seq, $id, $sender, $recipient, $content, $timestamp, $metadata)
        """,
        "$sid", "$seq", "$id", "$sender", "$recipient", "$content", "$timestamp", "$metadata");

    public static readonly SqliteStatement SelectMessageById = new(
        $"SELECT {MessageColumns} FROM messages WHERE session_id = $sid AND id = $id", "$sid", "$id");

    /// <summary>Whether the session stores a message with the id: one seek of the unique (session_id, id) key.</summary>
    public static readonly SqliteStatement MessageExists = new(
        "SELECT 1 FROM messages WHERE session_id = $sid AND id = $id", "$sid", "$id");

    /// <summary>
    /// Writes the counters as they are now, with the session's current activity folded into its row: a trim or an
    /// import may remove or replace the newest message, whose append time the activity was until then.
    /// </summary>
    public static readonly SqliteStatement UpdateCounters = new(
        "UPDATE sessions SET last_seq = $last_seq, message_count = $count, updated_at = $updated WHERE session_id = $sid",
        "$sid", "$last_seq", "$count", "$updated");

    /// <summary>Deletes the oldest <c>$offset + 1</c> messages, walking the (session_id, seq) key from its start.</summary>
    public static readonly SqliteStatement DeleteOldest = new(
        "DELETE FROM messages WHERE session_id = $sid AND seq <= (SELECT seq FROM messages WHERE session_id = $sid ORDER BY seq LIMIT 1 OFFSET $offset)",
        "$sid", "$offset");

    /// <summary>
    /// Raises a participant's read cursor to <c>$seq</c> (a monotonic max: a lower mark keeps the stored one) and
    /// returns the cursor after it. Run after the caller checked the session and its last sequence in the same transaction.
    /// </summary>
    public static readonly SqliteStatement MarkRead = new(
        """
        INSERT INTO read_cursors (session_id, participant, seq) VALUES ($sid, $participant, $seq)
        ON CONFLICT (session_id, participant) DO UPDATE SET seq = max(seq, excluded.seq)
        RETURNING seq
        """,
        "$sid", "$participant", "$seq");

    /// <summary>
    /// A session's read cursors in one statement, so one snapshot: no row when there is no such session, one row with
    /// a NULL participant when it has no cursor.
    /// </summary>
    public static readonly SqliteStatement SelectReadCursors = new(
        "SELECT c.participant, c.seq FROM sessions AS s LEFT JOIN read_cursors AS c ON c.session_id = s.session_id WHERE s.session_id = $sid",
        "$sid");

    /// <summary>Changes whenever another connection commits to the file (https://sqlite.org/pragma.html#pragma_data_version).</summary>
    public static readonly SqliteStatement DataVersion = new("PRAGMA data_version");

    public static readonly SqliteStatement ListSessionIds = new(
        "SELECT session_id FROM sessions WHERE session_id > $after ORDER BY session_id LIMIT $limit", "$after", "$limit");

    public static readonly SqliteStatement Statistics = new(
        $"SELECT count(*), coalesce(sum(s.message_count + max(0, coalesce(h.seq, 0) - s.last_seq)), 0), (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()) FROM sessions AS s {HeadJoin}");

    public static readonly SqliteStatement Health = new(
        "SELECT (SELECT user_version FROM pragma_user_version()), sqlite_version(), (SELECT count(*) FROM (SELECT 1 FROM sessions LIMIT 1))");

    // Message pages: [order NewestFirst? 1 : 0][after? 2 : 0][before? 4 : 0], each a range walk of the (session_id, seq) key.
    private static readonly SqliteStatement[] MessagePages = BuildMessagePages();

    // Session pages: [participant? 1][cursor? 2][updatedAfter? 4][updatedBefore? 8].
    private static readonly SqliteStatement[] SessionPages = BuildSessionPages();

    public static SqliteStatement MessagePage(bool newestFirst, bool after, bool before) =>
        MessagePages[(newestFirst ? 1 : 0) | (after ? 2 : 0) | (before ? 4 : 0)];

    public static SqliteStatement SessionPage(bool participant, bool cursor, bool updatedAfter, bool updatedBefore) =>
        SessionPages[(participant ? 1 : 0) | (cursor ? 2 : 0) | (updatedAfter ? 4 : 0) | (updatedBefore ? 8 : 0)];

    private static SqliteStatement[] BuildMessagePages()
    {
        var pages = new SqliteStatement[8];
        for (var flags = 0; flags < pages.Length; flags++)
        {
            var sql = new StringBuilder($"SELECT {MessageColumns} FROM messages WHERE session_id = $sid");
            var parameters = new List<string> { "$sid" };
            if ((flags & 2) != 0)
            {
                sql.Append(" AND seq > $after");
                parameters.Add("$after");
            }

            if ((flags & 4) != 0)
            {
                sql.Append(" AND seq < $before");
                parameters.Add("$before");
            }

            sql.Append((flags & 1) != 0 ? " ORDER BY seq DESC" : " ORDER BY seq").Append(" LIMIT $limit");
            parameters.Add("$limit");
            pages[flags] = new SqliteStatement(sql.ToString(), [.. parameters]);
        }

        return pages;
    }

    private static SqliteStatement[] BuildSessionPages()
    {
        var pages = new SqliteStatement[16];
        for (var flags = 0; flags < pages.Length; flags++)
        {
            var sql = new StringBuilder($"SELECT {SessionColumns} FROM ");
            var parameters = new List<string>();
            string recency, id;
            if ((flags & 1) != 0)
            {
                // CROSS JOIN fixes the join order: find the participant's sessions through their index, then sort
                // only those; never walk every session checking its participants.
                sql.Append(CultureInfo.InvariantCulture, $"session_participants AS p CROSS JOIN sessions AS s ON s.session_id = p.session_id {HeadJoin} WHERE p.participant = $participant");
                parameters.Add("$participant");
                (recency, id) = (Activity, "s.session_id");
            }
            else
            {
                // Walk session_activity from its newest end: no sort, and a page reads only its own sessions.
                sql.Append(CultureInfo.InvariantCulture, $"session_activity AS a CROSS JOIN sessions AS s ON s.session_id = a.session_id {HeadJoin} WHERE 1");
                (recency, id) = ("a.updated_at", "a.session_id");
            }

            if ((flags & 2) != 0)
            {
                sql.Append(CultureInfo.InvariantCulture, $" AND ({recency}, {id}) < ($cursor_ticks, $cursor_id)");
                parameters.Add("$cursor_ticks");
                parameters.Add("$cursor_id");
            }

            if ((flags & 4) != 0)
            {
                sql.Append(CultureInfo.InvariantCulture, $" AND {recency} > $updated_after");
                parameters.Add("$updated_after");
            }

            if ((flags & 8) != 0)
            {
                sql.Append(CultureInfo.InvariantCulture, $" AND {recency} < $updated_before");
                parameters.Add("$updated_before");
            }

            sql.Append(CultureInfo.InvariantCulture, $" ORDER BY {recency} DESC, {id} DESC LIMIT $limit");
            parameters.Add("$limit");
            pages[flags] = new SqliteStatement(sql.ToString(), [.. parameters]);
        }

        return pages;
    }
}
