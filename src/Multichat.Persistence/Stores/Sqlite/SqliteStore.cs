using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// Keeps every session in one SQLite database (<c>{StoragePath}/sessions.db</c>, WAL journal), shared safely by many
/// processes on one machine. Appends take the database's write lock (<c>BEGIN IMMEDIATE</c>), so reading the session's
/// last sequence and inserting the batch is one serialised step across processes: sequences stay gapless, and a
/// kill -9 at any moment leaves the last committed transaction intact.
/// </summary>
/// <remarks>
/// One writer connection (behind an async gate, since SQLite admits one writer anyway) and a small pool of reader
/// connections, each with its statements prepared once. The schema is checked and migrated once, on first use.
/// </remarks>
internal sealed class SqliteStore : ISessionStore
{
    /// <summary>The file name inside <see cref="SessionPersistenceOptions.StoragePath"/>.</summary>
    public const string FileName = "sessions.db";

    private const int MaxIdleReaders = 4;
    private const int IdPageSize = 500;

    private readonly string _connectionString;
    private readonly Durability _durability;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly TimeSpan _busyTimeout;
    private readonly SemaphoreSlim _openGate = new(1, 1);
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly Stack<SqliteConnectionLease> _idleReaders = new();
    private SqliteConnectionLease? _writer;
    private volatile bool _opened;
    private volatile bool _disposed;

    public SqliteStore(SqliteStoreOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);

        // The store pools its own open connections (each with prepared statements); closing them must close the file.
        var builder = new SqliteConnectionStringBuilder(options.ConnectionString) { Pooling = false };
        if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource is "" or ":memory:")
        {
            // Every connection of the pool would open its own empty database.
            throw new NotSupportedException(
                "The Sqlite store needs a database file; an in-memory SQLite database is private to one connection. Use StorageType.Memory for a store in memory.");
        }

        _connectionString = builder.ToString();
        DataSource = builder.DataSource;
        _durability = options.Durability;
        _clock = options.TimeProvider;
        _logger = logger;
        _busyTimeout = options.BusyTimeout;
    }

    public string Name => "sqlite";

    /// <summary>The database file (or URI) this store opens.</summary>
    public string DataSource { get; }

    public Task<ChatSession> CreateSessionAsync(ChatSession session, int maxSessions, CancellationToken cancellationToken = default)
    {
        var record = SessionRecords.New(session, _clock.GetUtcNow());
        return WriteAsync("CreateSession", (record, maxSessions), static (lease, state) =>
        {
            var (record, maxSessions) = state;

            // Read under BEGIN IMMEDIATE: no other connection, in any process, can add a session before this commits.
            if (maxSessions > 0 && SessionCount(lease) >= maxSessions)
            {
                // A taken id is reported as such whether or not the store is full (as the other stores do).
                throw SessionExists(lease, record.SessionId)
                    ? SessionAlreadyExistsException.ForSession(record.SessionId)
                    : QuotaExceededException.ForSessions(maxSessions);
            }

            InsertSession(lease, record);
            return record;
        }, cancellationToken);
    }

    public Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        ReadAsync("GetSession", sessionId, static (lease, sessionId) => SelectSession(lease, sessionId), cancellationToken);

    public Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default) =>
        WriteAsync("UpdateSession", (session, _clock), static (lease, state) =>
        {
            var (session, clock) = state;
            var stored = SelectSession(lease, session.SessionId) ?? throw SessionNotFoundException.ForSession(session.SessionId);
            if (stored.Version != session.Version)
            {
                throw ConcurrencyConflictException.ForSession(session.SessionId, session.Version, stored.Version);
            }

            var head = SelectHead(lease, session.SessionId)!.Value;
            var now = clock.GetUtcNow().UtcTicks;
            var activity = (head with { RowUpdatedTicks = now }).ActivityTicks;
            var updated = stored with
            {
                Participants = [.. session.Participants],
                Title = session.Title,
                Metadata = MetadataCopy.Of(session.Metadata),
                Version = stored.Version + 1,
                UpdatedAt = SqliteRecords.FromTicks(activity),
            };
            var command = lease.Get(SqliteSql.UpdateSession);
            var p = command.Parameters;
            p[0].Value = updated.SessionId;
            p[1].Value = SqliteRecords.Participants(updated.Participants);
            p[2].Value = SqliteRecords.Nullable(updated.Title);
            p[3].Value = SqliteRecords.Metadata(updated.Metadata);
            p[4].Value = updated.Version;
            p[5].Value = now;
            command.ExecuteNonQuery();
            MoveActivity(lease, updated.SessionId, head.ActivityTicks, activity);

            var delete = lease.Get(SqliteSql.DeleteParticipants);
            delete.Parameters[0].Value = updated.SessionId;
            delete.ExecuteNonQuery();
            InsertParticipants(lease, updated.SessionId, updated.Participants);
            return updated;
        }, cancellationToken);

    public Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        WriteAsync("DeleteSession", sessionId, static (lease, sessionId) => DeleteSession(lease, sessionId), cancellationToken);

    public Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken = default)
    {
        var cursor = SessionCursor.Decode(query.ContinuationToken, nameof(query));
        return ReadAsync("ListSessions", (query, cursor), static (lease, state) =>
        {
            var (query, cursor) = state;
            var command = lease.Get(SqliteSql.SessionPage(
                query.Participant is not null, cursor is not null, query.UpdatedAfter is not null, query.UpdatedBefore is not null));
            var p = command.Parameters;
            var i = 0;
            if (query.Participant is { } participant)
            {
                p[i++].Value = participant;
            }

            if (cursor is { } after)
            {
                p[i++].Value = after.UpdatedAtUtcTicks;
                p[i++].Value = after.SessionId;
            }

            if (query.UpdatedAfter is { } updatedAfter)
            {
                p[i++].Value = updatedAfter.UtcTicks;
            }

            if (query.UpdatedBefore is { } updatedBefore)
            {
                p[i++].Value = updatedBefore.UtcTicks;
            }

            p[i].Value = query.Limit + 1;
            var sessions = new List<ChatSession>(Math.Min(query.Limit + 1, 64));
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    sessions.Add(SqliteRecords.ReadSession(reader));
                }
            }

            return SessionListing.ToPage(sessions, query.Limit);
        }, cancellationToken);
    }

    public async IAsyncEnumerable<string> ListSessionIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Keyset pages, so no statement stays open (holding a read snapshot) while the caller works between ids.
        var after = string.Empty;
        while (true)
        {
            var page = await ReadAsync("ListSessionIds", after, static (lease, after) =>
            {
                var command = lease.Get(SqliteSql.ListSessionIds);
                command.Parameters[0].Value = after;
                command.Parameters[1].Value = IdPageSize;
                var ids = new List<string>();
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    ids.Add(reader.GetString(0));
                }

                return ids;
            }, cancellationToken).ConfigureAwait(false);

            foreach (var id in page)
            {
                yield return id;
            }

            if (page.Count < IdPageSize)
            {
                yield break;
            }

            after = page[^1];
        }
    }

    public async Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, int maxMessages, CancellationToken cancellationToken = default)
    {
        // A message id seen before is the rare case (a retry): try the shorter transaction that assumes every message
        // is new, and only when one is not, run the one that looks ids up.
        var state = (sessionId, messages, maxMessages, _clock);
        return await WriteAsync("AppendMessages", state, AppendAssumingNew, cancellationToken).ConfigureAwait(false)
            ?? await WriteAsync("AppendMessages", state, AppendWithLookups, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The append with id lookups always completes.");
    }

    public Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default) =>
        ReadAsync("GetMessages", (sessionId, query), static (lease, state) =>
        {
            var (sessionId, query) = state;
            var command = lease.Get(SqliteSql.MessagePage(
                query.Order == MessageOrder.NewestFirst, query.AfterSequence is not null, query.BeforeSequence is not null));
            var p = command.Parameters;
            var i = 0;
            p[i++].Value = sessionId;
            if (query.AfterSequence is { } after)
            {
                p[i++].Value = after;
            }

            if (query.BeforeSequence is { } before)
            {
                p[i++].Value = before;
            }

            var fetch = MessagePaging.FetchCount(query);
            p[i].Value = fetch;
            var messages = new List<ChatMessage>(Math.Min(fetch, 128));
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    messages.Add(SqliteRecords.ReadMessage(reader, sessionId));
                }
            }

            // Messages exist only under their session (foreign key), so only an empty page needs the existence check.
            if (messages.Count == 0 && !SessionExists(lease, sessionId))
            {
                throw SessionNotFoundException.ForSession(sessionId);
            }

            return MessagePaging.ToPage(query, messages);
        }, cancellationToken);

    public Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default) =>
        WriteAsync("TrimMessages", (sessionId, keepLatest), static (lease, state) =>
        {
            var (sessionId, keepLatest) = state;
            if (SelectHead(lease, sessionId) is not { } head || head.Count <= keepLatest)
            {
                return 0L;
            }

            var removed = DeleteOldest(lease, sessionId, head.Count - keepLatest);
            UpdateCounters(lease, sessionId, head.LastSequence, head.Count - removed, head.ActivityTicks);
            return removed;
        }, cancellationToken);

    public Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default)
    {
        var record = session with
        {
            Participants = [.. session.Participants],
            Metadata = MetadataCopy.Of(session.Metadata),
            CreatedAt = session.CreatedAt.ToUniversalTime(),
            UpdatedAt = session.UpdatedAt.ToUniversalTime(),
            MessageCount = 0,
        };
        return WriteAsync("ImportSession", (record, replaceExisting), static (lease, state) =>
        {
            var (record, replaceExisting) = state;
            if (replaceExisting)
            {
                DeleteSession(lease, record.SessionId);
            }

            InsertSession(lease, record);
            return true;
        }, cancellationToken);
    }

    public Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default) =>
        WriteAsync("ImportMessages", (sessionId, messages), static (lease, state) =>
        {
            var (sessionId, messages) = state;
            var head = SelectHead(lease, sessionId) ?? throw SessionNotFoundException.ForSession(sessionId);
            ImportChecks.EnsureAscending(messages, head.NewestSequence);
            var lastSequence = head.LastSequence;

            var insert = lease.Get(SqliteSql.ImportMessage);
            var p = insert.Parameters;
            p[0].Value = sessionId;
            foreach (var message in messages)
            {
                p[1].Value = message.Sequence;
                p[2].Value = message.Id;
                p[3].Value = message.Sender;
                p[4].Value = SqliteRecords.Nullable(message.Recipient);
                p[5].Value = message.Content;
                p[6].Value = message.Timestamp.UtcTicks;
                p[7].Value = SqliteRecords.Metadata(message.Metadata);
                insert.ExecuteNonQuery();
                lastSequence = Math.Max(lastSequence, message.Sequence);
            }

            // Imported rows carry no append time: the activity they would hide goes into the session row.
            UpdateCounters(lease, sessionId, lastSequence, head.Count + messages.Count, head.ActivityTicks);
            return true;
        }, cancellationToken);

    public Task<HealthReport> CheckHealthAsync(CancellationToken cancellationToken = default) =>
        ReadAsync("CheckHealth", Name, static (lease, name) =>
        {
            using var reader = lease.Get(SqliteSql.Health).ExecuteReader();
            reader.Read();
            var version = reader.GetInt64(0);
            return new HealthReport
            {
                Status = version == SqliteSchema.CurrentVersion ? StoreHealthStatus.Healthy : StoreHealthStatus.Degraded,
                Store = name,
                Description = $"SQLite {reader.GetString(1)}, schema version {version} (this build writes {SqliteSchema.CurrentVersion}).",
            };
        }, cancellationToken);

    public Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync("GetStatistics", Name, static (lease, name) =>
        {
            // Counts come from the per-session counters, so this costs O(sessions), not O(messages).
            using var reader = lease.Get(SqliteSql.Statistics).ExecuteReader();
            reader.Read();
            return new StoreStatistics
            {
                Store = name,
                SessionCount = reader.GetInt64(0),
                MessageCount = reader.GetInt64(1),
                StorageBytes = reader.GetInt64(2),
            };
        }, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Wait for a write in flight; closing the last connection checkpoints the WAL into the database file.
        await _writeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            _writer?.Dispose();
            _writer = null;
        }
        finally
        {
            _writeGate.Release();
        }

        lock (_idleReaders)
        {
            while (_idleReaders.TryPop(out var reader))
            {
                reader.Dispose();
            }
        }
    }

    /// <summary>
    /// Inserts the batch after the session's newest sequence and moves its activity row. Rolls back and returns
    /// <see langword="null"/> at the first id that is stored already (or repeated in the batch).
    /// </summary>
    /// <remarks>
    /// The session row is not written: its counters and the newest message give the sequence and count (see
    /// <see cref="SqliteSessionHead"/>), so a commit writes the message's pages and one activity page.
    /// </remarks>
    private static IReadOnlyList<ChatMessage>? AppendAssumingNew(
        SqliteConnectionLease lease, (string SessionId, IReadOnlyList<ChatMessage> Messages, int MaxMessages, TimeProvider Clock) state)
    {
        var (sessionId, messages, maxMessages, clock) = state;
        var head = SelectHead(lease, sessionId) ?? throw SessionNotFoundException.ForSession(sessionId);
        var now = clock.GetUtcNow();
        var stored = new ChatMessage[messages.Count];
        var insert = PrepareInsert(lease, sessionId, now);
        for (var i = 0; i < messages.Count; i++)
        {
            if (!TryInsert(insert, head.LastSequence + 1 + i, messages[i], now, out stored[i]))
            {
                lease.RollbackQuietly();
                return null;
            }
        }

        Appended(lease, sessionId, head, head.LastSequence + messages.Count, maxMessages, now);
        return stored;
    }

    /// <summary>Inserts what is new and returns the stored original of every id already stored.</summary>
    private static IReadOnlyList<ChatMessage>? AppendWithLookups(
        SqliteConnectionLease lease, (string SessionId, IReadOnlyList<ChatMessage> Messages, int MaxMessages, TimeProvider Clock) state)
    {
        var (sessionId, messages, maxMessages, clock) = state;
        var head = SelectHead(lease, sessionId) ?? throw SessionNotFoundException.ForSession(sessionId);
        var now = clock.GetUtcNow();
        var stored = new ChatMessage[messages.Count];
        var insert = PrepareInsert(lease, sessionId, now);
        var next = head.LastSequence;
        for (var i = 0; i < messages.Count; i++)
        {
            // The unique (session_id, id) key decides idempotency, also for an id repeated earlier in this batch.
            if (TryInsert(insert, next + 1, messages[i], now, out stored[i]))
            {
                next++;
            }
            else
            {
                stored[i] = SelectMessage(lease, sessionId, messages[i].Id);
            }
        }

        if (next != head.LastSequence)
        {
            Appended(lease, sessionId, head, next, maxMessages, now);
        }
        else
        {
            // Nothing new, so the activity stays; the limit may have been lowered since the last append.
            TrimToLimit(lease, sessionId, head.LastSequence, head.Count, maxMessages, head.ActivityTicks);
        }

        return stored;
    }

    /// <summary>After inserting up to <paramref name="lastSequence"/>: moves the activity, and trims to the limit.</summary>
    private static void Appended(
        SqliteConnectionLease lease, string sessionId, SqliteSessionHead head, long lastSequence, int maxMessages, DateTimeOffset now)
    {
        var activity = head.ActivityAfterAppend(now.UtcTicks);
        MoveActivity(lease, sessionId, head.ActivityTicks, activity);
        TrimToLimit(lease, sessionId, lastSequence, head.Count + (lastSequence - head.LastSequence), maxMessages, activity);
    }

    /// <summary>With a limit set and exceeded, deletes the oldest messages and writes the counters with the activity folded in.</summary>
    private static void TrimToLimit(SqliteConnectionLease lease, string sessionId, long lastSequence, long count, int maxMessages, long activityTicks)
    {
        if (maxMessages > 0 && count > maxMessages)
        {
            UpdateCounters(lease, sessionId, lastSequence, count - DeleteOldest(lease, sessionId, count - maxMessages), activityTicks);
        }
    }

    /// <summary>The insert statement with what every message of one append shares: the session and the append time.</summary>
    private static SqliteRawCommand PrepareInsert(SqliteConnectionLease lease, string sessionId, DateTimeOffset now)
    {
        var insert = lease.GetRaw(SqliteSql.InsertMessage);
        insert.Bind(0, sessionId);
        insert.Bind(8, now.UtcTicks);
        return insert;
    }

    /// <summary>Inserts <paramref name="message"/> at <paramref name="sequence"/>; false when its id is stored already.</summary>
    private static bool TryInsert(SqliteRawCommand insert, long sequence, ChatMessage message, DateTimeOffset now, out ChatMessage stored)
    {
        var timestamp = message.Timestamp == default ? now : message.Timestamp.ToUniversalTime();
        insert.Bind(1, sequence);
        insert.Bind(2, message.Id);
        insert.Bind(3, message.Sender);
        insert.BindNullable(4, message.Recipient);
        insert.Bind(5, message.Content);
        insert.Bind(6, timestamp.UtcTicks);
        insert.BindNullable(7, SqliteRecords.MetadataText(message.Metadata));
        insert.Execute();
        if (insert.Changes != 1)
        {
            stored = null!;
            return false;
        }

        stored = message with { Sequence = sequence, Timestamp = timestamp, Metadata = MetadataCopy.Of(message.Metadata) };
        return true;
    }

    private static void UpdateCounters(SqliteConnectionLease lease, string sessionId, long lastSequence, long count, long activityTicks)
    {
        var update = lease.Get(SqliteSql.UpdateCounters);
        update.Parameters[0].Value = sessionId;
        update.Parameters[1].Value = lastSequence;
        update.Parameters[2].Value = count;
        update.Parameters[3].Value = activityTicks;
        update.ExecuteNonQuery();
    }

    private static SqliteSessionHead? SelectHead(SqliteConnectionLease lease, string sessionId)
    {
        var command = lease.GetRaw(SqliteSql.SelectHead);
        command.Bind(0, sessionId);
        if (!command.ReadFirst())
        {
            return null;
        }

        var head = new SqliteSessionHead(
            command.Int64(0), command.Int64(1), command.Int64(2), command.Int64(3), command.IsNull(4) ? null : command.Int64(4));
        command.Reset();
        return head;
    }

    private static void InsertActivity(SqliteConnectionLease lease, string sessionId, long activityTicks)
    {
        var command = lease.GetRaw(SqliteSql.InsertActivity);
        command.Bind(0, sessionId);
        command.Bind(1, activityTicks);
        command.Execute();
    }

    /// <summary>Moves the session's activity row; the key comes from the session's own data, so it is found by one seek.</summary>
    private static void MoveActivity(SqliteConnectionLease lease, string sessionId, long fromTicks, long toTicks)
    {
        if (fromTicks == toTicks)
        {
            return;
        }

        var command = lease.GetRaw(SqliteSql.MoveActivity);
        command.Bind(0, sessionId);
        command.Bind(1, fromTicks);
        command.Bind(2, toTicks);
        command.Execute();
        if (command.Changes != 1)
        {
            // Not where the session's data says (a hand edit): replace whatever row the session has, so it lists once.
            DeleteAllActivity(lease, sessionId);
            InsertActivity(lease, sessionId, toTicks);
        }
    }

    private static void DeleteAllActivity(SqliteConnectionLease lease, string sessionId)
    {
        var command = lease.Get(SqliteSql.DeleteActivityOfSession);
        command.Parameters[0].Value = sessionId;
        command.ExecuteNonQuery();
    }

    private static ChatSession? SelectSession(SqliteConnectionLease lease, string sessionId)
    {
        var command = lease.Get(SqliteSql.SelectSession);
        command.Parameters[0].Value = sessionId;
        using var reader = command.ExecuteReader();
        return reader.Read() ? SqliteRecords.ReadSession(reader) : null;
    }

    /// <summary>The sessions the store holds, from the row the schema's triggers keep: one seek, whatever the count.</summary>
    private static long SessionCount(SqliteConnectionLease lease)
    {
        var command = lease.GetRaw(SqliteSql.SelectSessionCount);
        if (!command.ReadFirst())
        {
            // Deleted by hand: count once and put it back, inside this same transaction.
            lease.GetRaw(SqliteSql.RestoreSessionCount).Execute();
            if (!command.ReadFirst())
            {
                throw new StoreCorruptedException("The session_count row of the Sqlite store cannot be restored.");
            }
        }

        var count = command.Int64(0);
        command.Reset();
        return count;
    }

    private static bool SessionExists(SqliteConnectionLease lease, string sessionId)
    {
        var command = lease.Get(SqliteSql.SessionExists);
        command.Parameters[0].Value = sessionId;
        return command.ExecuteScalar() is not null;
    }

    private static ChatMessage SelectMessage(SqliteConnectionLease lease, string sessionId, string id)
    {
        var command = lease.Get(SqliteSql.SelectMessageById);
        command.Parameters[0].Value = sessionId;
        command.Parameters[1].Value = id;
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? SqliteRecords.ReadMessage(reader, sessionId)
            : throw new StoreCorruptedException($"Message '{id}' of session '{sessionId}' conflicts with a stored key but cannot be read back.");
    }

    /// <summary>
    /// Writes a new session: its row, its participant rows and its activity row. Throws when the id is taken.
    /// </summary>
    private static void InsertSession(SqliteConnectionLease lease, ChatSession record)
    {
        var command = lease.Get(SqliteSql.InsertSession);
        var p = command.Parameters;
        p[0].Value = record.SessionId;
        p[1].Value = SqliteRecords.Participants(record.Participants);
        p[2].Value = SqliteRecords.Nullable(record.Title);
        p[3].Value = SqliteRecords.Metadata(record.Metadata);
        p[4].Value = record.CreatedAt.UtcTicks;
        p[5].Value = record.UpdatedAt.UtcTicks;
        p[6].Value = record.Version;
        p[7].Value = record.LastSequence;
        if (command.ExecuteNonQuery() != 1)
        {
            throw SessionAlreadyExistsException.ForSession(record.SessionId);
        }

        InsertParticipants(lease, record.SessionId, record.Participants);
        InsertActivity(lease, record.SessionId, record.UpdatedAt.UtcTicks);
    }

    private static void InsertParticipants(SqliteConnectionLease lease, string sessionId, IReadOnlyList<string> participants)
    {
        var command = lease.Get(SqliteSql.InsertParticipant);
        var p = command.Parameters;
        p[0].Value = sessionId;
        for (var i = 0; i < participants.Count; i++)
        {
            p[1].Value = i;
            p[2].Value = participants[i];
            command.ExecuteNonQuery();
        }
    }

    private static bool DeleteSession(SqliteConnectionLease lease, string sessionId)
    {
        if (SelectHead(lease, sessionId) is not { } head)
        {
            return false;
        }

        var activity = lease.Get(SqliteSql.DeleteActivity);
        activity.Parameters[0].Value = sessionId;
        activity.Parameters[1].Value = head.ActivityTicks;
        if (activity.ExecuteNonQuery() != 1)
        {
            DeleteAllActivity(lease, sessionId);
        }

        // Its messages and participant rows go with it (ON DELETE CASCADE; foreign_keys is on for every connection).
        var command = lease.Get(SqliteSql.DeleteSession);
        command.Parameters[0].Value = sessionId;
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>Deletes the <paramref name="remove"/> oldest messages of a session; returns how many went.</summary>
    private static long DeleteOldest(SqliteConnectionLease lease, string sessionId, long remove)
    {
        var command = lease.Get(SqliteSql.DeleteOldest);
        command.Parameters[0].Value = sessionId;
        command.Parameters[1].Value = remove - 1;
        return command.ExecuteNonQuery();
    }

    /// <summary>Runs <paramref name="work"/> in one <c>BEGIN IMMEDIATE</c> transaction on the writer connection.</summary>
    private async Task<T> WriteAsync<TState, T>(
        string operation, TState state, Func<SqliteConnectionLease, TState, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var writer = _writer!;
            var started = Stopwatch.GetTimestamp();
            for (var attempt = 1; ; attempt++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!TryBegin(writer, operation, cancellationToken))
                {
                    // Another process holds the write lock: wait without holding a thread, then try again.
                    if (Stopwatch.GetElapsedTime(started) >= _busyTimeout)
                    {
                        throw SqliteErrors.Map(new SqliteException("database is locked", 5), operation, DataSource, cancellationToken);
                    }

                    SqliteLog.BusyRetry(_logger, operation, attempt);
                    await Task.Delay(BusyBackoff(attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }

                try
                {
                    using (writer.InterruptOn(cancellationToken))
                    {
                        var result = work(writer, state);

                        // The work may have rolled back itself (an append that must take its slower path).
                        writer.CommitIfOpen();
                        return result;
                    }
                }
                catch (Exception ex)
                {
                    writer.RollbackQuietly();
                    var mapped = SqliteErrors.Map(ex, operation, DataSource, cancellationToken);
                    if (ReferenceEquals(mapped, ex))
                    {
                        throw;
                    }

                    throw mapped;
                }
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Runs <paramref name="work"/> on a pooled reader connection (WAL: readers never wait for the writer).</summary>
    private async Task<T> ReadAsync<TState, T>(
        string operation, TState state, Func<SqliteConnectionLease, TState, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        SqliteConnectionLease? lease = null;
        var started = Stopwatch.GetTimestamp();
        try
        {
            lease = RentReader();
            while (true)
            {
                try
                {
                    using (lease.InterruptOn(cancellationToken))
                    {
                        return work(lease, state);
                    }
                }
                catch (SqliteException ex) when (ShouldRetry(ex, started, cancellationToken))
                {
                    // Only while another connection recovers or checkpoints the WAL; reads change nothing, so retry.
                }
            }
        }
        catch (Exception ex)
        {
            var mapped = SqliteErrors.Map(ex, operation, DataSource, cancellationToken);
            if (ReferenceEquals(mapped, ex))
            {
                throw;
            }

            throw mapped;
        }
        finally
        {
            if (lease is not null)
            {
                ReturnReader(lease);
            }
        }
    }

    private bool TryBegin(SqliteConnectionLease writer, string operation, CancellationToken cancellationToken)
    {
        try
        {
            return writer.TryBeginImmediate();
        }
        catch (SqliteException ex)
        {
            throw SqliteErrors.Map(ex, operation, DataSource, cancellationToken);
        }
    }

    /// <summary>1, 2, 4 … up to 16 ms, with jitter so waiting processes do not retry in lockstep.</summary>
    private static TimeSpan BusyBackoff(int attempt) =>
        TimeSpan.FromMilliseconds((1 << Math.Min(attempt - 1, 4)) + (Random.Shared.NextDouble() * 4));

    private bool ShouldRetry(SqliteException exception, long started, CancellationToken cancellationToken) =>
        SqliteErrors.IsBusy(exception) && !cancellationToken.IsCancellationRequested && Stopwatch.GetElapsedTime(started) < _busyTimeout;

    private SqliteConnectionLease RentReader()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_idleReaders)
        {
            if (_idleReaders.TryPop(out var idle))
            {
                return idle;
            }
        }

        return SqliteConnectionLease.Open(_connectionString, _durability, readOnly: true, _busyTimeout);
    }

    private void ReturnReader(SqliteConnectionLease lease)
    {
        lock (_idleReaders)
        {
            if (!_disposed && _idleReaders.Count < MaxIdleReaders)
            {
                _idleReaders.Push(lease);
                return;
            }
        }

        lease.Dispose();
    }

    private ValueTask EnsureOpenAsync(CancellationToken cancellationToken) => _opened ? default : OpenAsync(cancellationToken);

    /// <summary>Opens the writer and brings the schema up to date, once per store instance (never per call).</summary>
    private async ValueTask OpenAsync(CancellationToken cancellationToken)
    {
        await _openGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_opened)
            {
                return;
            }

            var started = Stopwatch.GetTimestamp();
            for (var attempt = 1; ; attempt++)
            {
                SqliteConnectionLease? writer = null;
                try
                {
                    CreateFolder();
                    writer = SqliteConnectionLease.Open(_connectionString, _durability, readOnly: false, _busyTimeout);
                    SqliteSchema.Initialize(writer, DataSource, _logger);
                    if (_disposed)
                    {
                        // Disposed while we opened: do not leave the file open behind the caller's back.
                        writer.Dispose();
                        throw new ObjectDisposedException(nameof(SqliteStore));
                    }

                    _writer = writer;
                    _opened = true;
                    return;
                }
                catch (SqliteException ex) when (ShouldRetry(ex, started, cancellationToken))
                {
                    // Another process creates or migrates the schema right now; it will be done in a moment.
                    writer?.Dispose();
                }
                catch (Exception ex)
                {
                    writer?.Dispose();
                    var mapped = SqliteErrors.Map(ex, "Opening the store", DataSource, cancellationToken);
                    if (ReferenceEquals(mapped, ex))
                    {
                        throw;
                    }

                    throw mapped;
                }

                await Task.Delay(BusyBackoff(attempt), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _openGate.Release();
        }
    }

    private void CreateFolder()
    {
        if (DataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(DataSource));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }
    }
}
