using FluentAssertions;
using Microsoft.Data.Sqlite;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// What the Sqlite fault tests (injected I/O errors, named-point kills, a full disk) check after each fault: the
/// file's own consistency, read with a plain connection next to the store, and a session's exact rows and counters.
/// </summary>
internal static class SqliteFaultChecks
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Opens the facade on <c>{folder}/sessions.db</c>, with the tests' fault hook and log capture when given.</summary>
    public static SessionPersistence Open(
        string folder,
        InjectedIoFaults? faults = null,
        int? maxSessions = null,
        int? maxMessagesPerSession = null,
        SessionLimitPolicy sessionLimitPolicy = SessionLimitPolicy.Reject,
        MessageLimitPolicy messageLimitPolicy = MessageLimitPolicy.TrimOldest,
        CapturingLoggerFactory? logs = null)
    {
        var options = new SessionPersistenceOptions
        {
            StorageType = StorageType.Sqlite,
            StoragePath = folder,
            MaxSessions = maxSessions,
            SessionLimitPolicy = sessionLimitPolicy,
            MaxMessagesPerSession = maxMessagesPerSession,
            MessageLimitPolicy = messageLimitPolicy,
        };
        options.FaultInjection = faults?.Injection;
        return SessionPersistence.Create(options, logs);
    }

    /// <summary>Whether the point that threw comes after a commit (the write happened, the caller saw an error).</summary>
    public static bool AfterCommit(string? point) => point?.EndsWith(".after-commit", StringComparison.Ordinal) == true;

    /// <summary>
    /// <c>integrity_check</c> ok, no foreign key broken, and the rows the store derives kept in step: the session count
    /// row equals <c>count(*)</c>, each session has one activity row and one participant row per participant.
    /// </summary>
    public static void FileShouldBeConsistent(string folder)
    {
        SqliteTestFiles.IntegrityCheck(folder).Should().Be("ok");
        using var connection = new SqliteConnection($"Data Source={Path.Combine(folder, "sessions.db")};Pooling=False");
        connection.Open();
        Scalar(connection, "SELECT count(*) FROM pragma_foreign_key_check").Should().Be(0, "no message or participant row outlives its session");
        Scalar(connection, "SELECT (SELECT sessions FROM session_count) - (SELECT count(*) FROM sessions)").Should().Be(0, "session_count equals count(*)");
        Scalar(connection, "SELECT count(*) FROM sessions AS s WHERE (SELECT count(*) FROM session_activity AS a WHERE a.session_id = s.session_id) <> 1")
            .Should().Be(0, "every session has exactly one activity row");
        Scalar(connection, "SELECT count(*) FROM session_activity AS a WHERE NOT EXISTS (SELECT 1 FROM sessions AS s WHERE s.session_id = a.session_id)")
            .Should().Be(0, "no activity row outlives its session");
        Scalar(
            connection,
            """
            SELECT count(*) FROM sessions AS s
            LEFT JOIN messages AS h ON h.session_id = s.session_id AND h.seq = (SELECT max(seq) FROM messages WHERE session_id = s.session_id)
            WHERE (SELECT updated_at FROM session_activity AS a WHERE a.session_id = s.session_id) <> max(s.updated_at, coalesce(h.appended_at, s.updated_at))
            """).Should().Be(0, "each session's activity row holds its UpdatedAt");
        Scalar(connection, "SELECT count(*) FROM sessions AS s WHERE json_array_length(s.participants) <> (SELECT count(*) FROM session_participants AS p WHERE p.session_id = s.session_id)")
            .Should().Be(0, "the participant index matches each session's participants");
    }

    /// <summary>The session holds exactly <paramref name="expected"/> (id, sequence) in order, and its counters agree.</summary>
    public static async Task SessionShouldHoldAsync(SessionPersistence store, string sessionId, IReadOnlyList<(string Id, long Sequence)> expected, long lastSequence, string because)
    {
        var rows = await StoredMessages.ReadAllAsync(store, sessionId, Ct);
        rows.Select(m => (m.Id, m.Sequence)).Should().Equal(expected, because);
        var session = (await store.GetSessionAsync(sessionId, Ct))!;
        session.Should().NotBeNull(because);
        session.MessageCount.Should().Be(expected.Count, because);
        session.LastSequence.Should().Be(lastSequence, because);
    }

    public static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static long Scalar(string folder, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(folder, "sessions.db")};Pooling=False");
        connection.Open();
        return Scalar(connection, sql);
    }
}
