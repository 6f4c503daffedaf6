using System.Text;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>Every statement the store runs: parameterised, fixed text, prepared once per connection.</summary>
internal static class SqliteSql
{
    /// <summary>The columns <see cref="SqliteRecords.ReadSession"/> reads, in its order.</summary>
    private const string SessionColumns =
        "s.session_id, s.participants, s.title, s.metadata, s.created_at, s.updated_at, s.version, s.last_seq, s.message_count";

    /// <summary>The columns <see cref="SqliteRecords.ReadMessage"/> reads, in its order.</summary>
    private const string MessageColumns = "seq, id, sender, recipient, content, timestamp, metadata";

    public static readonly SqliteStatement SelectSession = new(
        $"SELECT {SessionColumns} FROM sessions AS s WHERE s.session_id = $sid", "$sid");

    public static readonly SqliteStatement SessionExists = new("SELECT 1 FROM sessions WHERE session_id = $sid", "$sid");

    public static readonly SqliteStatement InsertSession = new(
        """
        INSERT INTO sessions (session_id, participants, title, metadata, created_at, updated_at, version, last_seq, message_count)
        VALUES ($sid, $participants, $title, $metadata, $created, $updated, $version, $last_seq, 0)
        ON CONFLICT (session_id) DO NOTHING
        """,
        "$sid", "$participants", "$title", "$metadata", "$created", "$updated", "$version", "$last_seq");

    public static readonly SqliteStatement UpdateSession = new(
        "UPDATE sessions SET participants = $participants, title = $title, metadata = $metadata, version = $version, updated_at = $updated WHERE session_id = $sid",
        "$sid", "$participants", "$title", "$metadata", "$version", "$updated");

    public static readonly SqliteStatement DeleteSession = new("DELETE FROM sessions WHERE session_id = $sid", "$sid");

    public static readonly SqliteStatement InsertParticipant = new(
        "INSERT INTO session_participants (session_id, position, participant) VALUES ($sid, $position, $participant)",
        "$sid", "$position", "$participant");

    public static readonly SqliteStatement DeleteParticipants = new("DELETE FROM session_participants WHERE session_id = $sid", "$sid");

    public static readonly SqliteStatement SelectCounters = new(
        "SELECT last_seq, message_count FROM sessions WHERE session_id = $sid", "$sid");

    /// <summary>Takes the next <c>$n</c> sequences of a session and marks its activity; returns the new last_seq and count.</summary>
    public static readonly SqliteStatement ReserveSequences = new(
        "UPDATE sessions SET last_seq = last_seq + $n, message_count = message_count + $n, updated_at = $updated WHERE session_id = $sid RETURNING last_seq, message_count",
        "$sid", "$n", "$updated");

    public static readonly SqliteStatement InsertMessage = new(
        """
        INSERT INTO messages (session_id, seq, id, sender, recipient, content, timestamp, metadata)
        VALUES ($sid, $seq, $id, $sender, $recipient, $content, $timestamp, $metadata)
        ON CONFLICT (session_id, id) DO NOTHING
        """,
        "$sid", "$seq", "$id", "$sender", "$recipient", "$content", "$timestamp", "$metadata");

    public static readonly SqliteStatement ImportMessage = new(
        """
        INSERT INTO messages (session_id, seq, id, sender, recipient, content, timestamp, metadata)
        VALUES ($sid, $seq, $id, $sender, $recipient, $content, $timestamp, $metadata)
        """,
        "$sid", "$seq", "$id", "$sender", "$recipient", "$content", "$timestamp", "$metadata");

    public static readonly SqliteStatement SelectMessageById = new(
        $"SELECT {MessageColumns} FROM messages WHERE session_id = $sid AND id = $id", "$sid", "$id");

    public static readonly SqliteStatement LastStoredSequence = new(
        "SELECT coalesce(max(seq), 0) FROM messages WHERE session_id = $sid", "$sid");

    public static readonly SqliteStatement UpdateCountersAndActivity = new(
        "UPDATE sessions SET last_seq = $last_seq, message_count = $count, updated_at = $updated WHERE session_id = $sid",
        "$sid", "$last_seq", "$count", "$updated");

    public static readonly SqliteStatement UpdateCounters = new(
        "UPDATE sessions SET last_seq = $last_seq, message_count = $count WHERE session_id = $sid",
        "$sid", "$last_seq", "$count");

    /// <summary>Deletes the oldest <c>$offset + 1</c> messages, walking the (session_id, seq) key from its start.</summary>
    public static readonly SqliteStatement DeleteOldest = new(
        "DELETE FROM messages WHERE session_id = $sid AND seq <= (SELECT seq FROM messages WHERE session_id = $sid ORDER BY seq LIMIT 1 OFFSET $offset)",
        "$sid", "$offset");

    public static readonly SqliteStatement ListSessionIds = new(
        "SELECT session_id FROM sessions WHERE session_id > $after ORDER BY session_id LIMIT $limit", "$after", "$limit");

    public static readonly SqliteStatement Statistics = new(
        "SELECT count(*), coalesce(sum(message_count), 0), (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()) FROM sessions");

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
            if ((flags & 1) != 0)
            {
                // CROSS JOIN fixes the join order: find the participant's sessions through their index, then sort
                // only those; never walk every session checking its participants.
                sql.Append("session_participants AS p CROSS JOIN sessions AS s ON s.session_id = p.session_id WHERE p.participant = $participant");
                parameters.Add("$participant");
            }
            else
            {
                sql.Append("sessions AS s WHERE 1");
            }

            if ((flags & 2) != 0)
            {
                sql.Append(" AND (s.updated_at, s.session_id) < ($cursor_ticks, $cursor_id)");
                parameters.Add("$cursor_ticks");
                parameters.Add("$cursor_id");
            }

            if ((flags & 4) != 0)
            {
                sql.Append(" AND s.updated_at > $updated_after");
                parameters.Add("$updated_after");
            }

            if ((flags & 8) != 0)
            {
                sql.Append(" AND s.updated_at < $updated_before");
                parameters.Add("$updated_before");
            }

            sql.Append(" ORDER BY s.updated_at DESC, s.session_id DESC LIMIT $limit");
            parameters.Add("$limit");
            pages[flags] = new SqliteStatement(sql.ToString(), [.. parameters]);
        }

        return pages;
    }
}
