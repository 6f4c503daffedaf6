using Microsoft.Data.Sqlite;

namespace Multichat.Persistence.Benchmarks.Sqlite;

/// <summary>
/// The baseline side of the Sqlite benchmarks: plain Microsoft.Data.Sqlite on the same file and schema, with the same
/// per-connection pragmas the store sets, and prepared commands — what a hand-written data layer would do.
/// </summary>
internal sealed class SqliteRaw : IDisposable
{
    public const string Pragmas = "PRAGMA busy_timeout = 20; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;";

    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _begin;
    private readonly SqliteCommand _commit;
    private readonly SqliteCommand _latest;

    public SqliteRaw(string path)
    {
        _connection = new SqliteConnection($"Data Source={path};Pooling=False");
        _connection.Open();
        using (var pragmas = _connection.CreateCommand())
        {
            pragmas.CommandText = Pragmas;
            pragmas.ExecuteNonQuery();
        }

        _insert = Prepare(
            "INSERT INTO messages (session_id, seq, id, sender, recipient, content, timestamp, metadata) VALUES ($sid, $seq, $id, $sender, $recipient, $content, $timestamp, $metadata)",
            "$sid", "$seq", "$id", "$sender", "$recipient", "$content", "$timestamp", "$metadata");
        _begin = Prepare("BEGIN IMMEDIATE");
        _commit = Prepare("COMMIT");
        _latest = Prepare(
            "SELECT seq, id, sender, recipient, content, timestamp, metadata FROM messages WHERE session_id = $sid ORDER BY seq DESC LIMIT $limit",
            "$sid", "$limit");
    }

    public long NextSequence(string sessionId)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE session_id = $sid";
        command.Parameters.AddWithValue("$sid", sessionId);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>One INSERT in its own (autocommit) transaction.</summary>
    public void Insert(string sessionId, long sequence, string id, string content)
    {
        var p = _insert.Parameters;
        p[0].Value = sessionId;
        p[1].Value = sequence;
        p[2].Value = id;
        p[3].Value = "Agent-1";
        p[4].Value = DBNull.Value;
        p[5].Value = content;
        p[6].Value = DateTimeOffset.UtcNow.UtcTicks;
        p[7].Value = DBNull.Value;
        _insert.ExecuteNonQuery();
    }

    public void Begin() => _begin.ExecuteNonQuery();

    public void Commit() => _commit.ExecuteNonQuery();

    /// <summary>The latest <paramref name="limit"/> messages, materialised as the store returns them.</summary>
    public List<ChatMessage> Latest(string sessionId, int limit)
    {
        _latest.Parameters[0].Value = sessionId;
        _latest.Parameters[1].Value = limit;
        var messages = new List<ChatMessage>(limit);
        using var reader = _latest.ExecuteReader();
        while (reader.Read())
        {
            messages.Add(new ChatMessage
            {
                SessionId = sessionId,
                Sequence = reader.GetInt64(0),
                Id = reader.GetString(1),
                Sender = reader.GetString(2),
                Recipient = reader.IsDBNull(3) ? null : reader.GetString(3),
                Content = reader.GetString(4),
                Timestamp = new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero),
            });
        }

        return messages;
    }

    public void Dispose()
    {
        _insert.Dispose();
        _begin.Dispose();
        _commit.Dispose();
        _latest.Dispose();
        _connection.Dispose();
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter(name, DBNull.Value));
        }

        command.Prepare();
        return command;
    }
}
