using FluentAssertions;
using Microsoft.Data.Sqlite;
using Multichat.Persistence.Stores.Sqlite;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// MaxSessions on the Sqlite store: the create reads the schema-v4 <c>session_count</c> row inside its
/// <c>BEGIN IMMEDIATE</c> transaction, and triggers on <c>sessions</c> keep that row equal to the real count on every
/// path, including writers that are not this build's code.
/// </summary>
public sealed class SqliteSessionCountTests : IDisposable
{
    private readonly string _folder = SqliteTestFolder.Create();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => Path.Combine(_folder, SqliteStore.FileName);

    [Fact]
    public async Task CreateSession_FourProcessesRacingUnderMaxSessions_StoreExactlyTheLimit()
    {
        await SessionLimitRace.RunAsync("Sqlite", _folder, 4, 25, 50, () => Open());

        CountRow().Should().Be(50);
    }

    [Fact]
    public async Task CreateSession_FourProcessesEvictingUnderMaxSessions_AllSucceedAndStoreExactlyTheLimit()
    {
        await SessionLimitRace.RunEvictingAsync("Sqlite", _folder, 4, 15, 20, () => Open());

        CountRow().Should().Be(20);
    }

    [Fact]
    public async Task CreateSession_AfterADeleteAtTheLimit_UsesTheFreedSlot()
    {
        await using var store = Open(maxSessions: 2);
        await store.CreateSessionAsync("a", ["p"], cancellationToken: Ct);
        await store.CreateSessionAsync("b", ["p"], cancellationToken: Ct);
        var full = () => store.CreateSessionAsync("c", ["p"], cancellationToken: Ct);
        await full.Should().ThrowAsync<QuotaExceededException>();

        (await store.DeleteSessionAsync("a", Ct)).Should().BeTrue();
        await store.CreateSessionAsync("c", ["p"], cancellationToken: Ct);

        (await store.GetSessionAsync("c", Ct)).Should().NotBeNull();
        await full.Should().ThrowAsync<SessionAlreadyExistsException>("a taken id is reported as taken, also when the store is full");
        var next = () => store.CreateSessionAsync("d", ["p"], cancellationToken: Ct);
        await next.Should().ThrowAsync<QuotaExceededException>();
        CountRow().Should().Be(2);
    }

    [Fact]
    public async Task EveryWritePath_KeepsTheCountRowEqualToTheSessionRows()
    {
        await using (var store = Open(maxSessions: 100))
        {
            await store.CreateSessionAsync("a", ["p"], cancellationToken: Ct);
            await store.CreateSessionAsync("b", ["p"], cancellationToken: Ct);
            var duplicate = () => store.CreateSessionAsync("a", ["p"], cancellationToken: Ct);
            await duplicate.Should().ThrowAsync<SessionAlreadyExistsException>();
            await store.AddMessageAsync(new ChatMessage { Id = "m", SessionId = "a", Sender = "p", Content = "x" }, Ct);
            var exported = (await store.GetSessionAsync("a", Ct))!;
            await store.Store.ImportSessionAsync(exported with { SessionId = "imported" }, replaceExisting: false, Ct);
            await store.Store.ImportSessionAsync(exported, replaceExisting: true, Ct);
            CountRow().Should().Be(RealCount()).And.Be(3);

            (await store.DeleteSessionAsync("b", Ct)).Should().BeTrue();
            (await store.DeleteSessionAsync("b", Ct)).Should().BeFalse();
            CountRow().Should().Be(RealCount()).And.Be(2);
        }

        await using (var limited = Open(maxSessions: 1))
        {
            (await limited.CleanupAsync(Ct)).ExcessSessions.Should().Be(1);
        }

        CountRow().Should().Be(RealCount()).And.Be(1);
    }

    [Fact]
    public async Task CreateSession_RowsWrittenByAnotherConnection_AreCountedAgainstTheLimit()
    {
        await using var store = Open(maxSessions: 3);
        await store.CreateSessionAsync("a", ["p"], cancellationToken: Ct);

        // What the sqlite3 shell or another program writes goes through the same triggers.
        Execute(
            """
            INSERT INTO sessions (session_id, participants, created_at, updated_at, version, last_seq, message_count) VALUES ('x', '[]', 0, 0, 1, 0, 0), ('y', '[]', 0, 0, 1, 0, 0);
            INSERT INTO session_activity VALUES (0, 'x'), (0, 'y');
            """);
        var act = () => store.CreateSessionAsync("b", ["p"], cancellationToken: Ct);
        await act.Should().ThrowAsync<QuotaExceededException>();

        Execute("PRAGMA foreign_keys = ON; DELETE FROM session_activity WHERE session_id = 'x'; DELETE FROM sessions WHERE session_id = 'x'");
        await store.CreateSessionAsync("b", ["p"], cancellationToken: Ct);
        CountRow().Should().Be(RealCount()).And.Be(3);
    }

    [Fact]
    public async Task CreateSession_CountRowDeletedByHand_RestoresItFromTheRowsAndKeepsTheLimit()
    {
        await using var store = Open(maxSessions: 2);
        await store.CreateSessionAsync("a", ["p"], cancellationToken: Ct);
        await store.CreateSessionAsync("b", ["p"], cancellationToken: Ct);
        Execute("DELETE FROM session_count");
        (await store.DeleteSessionAsync("a", Ct)).Should().BeTrue();

        await store.CreateSessionAsync("c", ["p"], cancellationToken: Ct);
        var act = () => store.CreateSessionAsync("d", ["p"], cancellationToken: Ct);

        await act.Should().ThrowAsync<QuotaExceededException>();
        CountRow().Should().Be(RealCount()).And.Be(2);
    }

    [Fact]
    public async Task Open_SchemaVersionThreeFixture_MigratesToFourWithTheCountOfItsSessions()
    {
        File.Copy(SqliteTestFiles.Fixture("schema-v3.db"), DatabasePath);

        await using (var store = Open(maxSessions: 4))
        {
            var alpha = await store.GetSessionAsync("alpha", Ct);
            alpha!.MessageCount.Should().Be(2);
            alpha.LastSequence.Should().Be(2);
            alpha.UpdatedAt.Should().Be(new DateTimeOffset(2026, 1, 1, 12, 0, 4, TimeSpan.Zero));
            (await store.GetMessagesAsync("alpha", 10, Ct)).Select(m => m.Id).Should().Equal("m-1", "m-2");
            (await store.ListSessionsAsync(cancellationToken: Ct)).Sessions.Select(s => s.SessionId).Should().Equal("alpha", "gamma", "beta");
            CountRow().Should().Be(3, "the migration counted the sessions a v3 build had written");

            await store.CreateSessionAsync("delta", ["p"], cancellationToken: Ct);
            var act = () => store.CreateSessionAsync("epsilon", ["p"], cancellationToken: Ct);
            await act.Should().ThrowAsync<QuotaExceededException>();
        }

        Scalar("PRAGMA user_version").Should().Be(SqliteSchema.CurrentVersion);
        Scalar("PRAGMA integrity_check").Should().Be("ok");
        CountRow().Should().Be(RealCount()).And.Be(4);
    }

    [Fact]
    public async Task Open_WriterThatPreparedItsInsertBeforeTheMigration_IsCountedByTheNewTriggers()
    {
        // A process of the v3 build keeps the file open (its statements prepared) while a v4 process migrates it.
        File.Copy(SqliteTestFiles.Fixture("schema-v3.db"), DatabasePath);
        using var older = Connect();
        using var insert = older.CreateCommand();
        insert.CommandText = "INSERT INTO sessions (session_id, participants, created_at, updated_at, version, last_seq, message_count) VALUES ($sid, '[]', 0, 0, 1, 0, 0)";
        var sid = insert.Parameters.Add("$sid", SqliteType.Text);
        insert.Prepare();
        sid.Value = "before";
        insert.ExecuteNonQuery();

        await using (var store = Open())
        {
            await store.CreateSessionAsync("migrated", ["p"], cancellationToken: Ct);
        }

        sid.Value = "after";
        insert.ExecuteNonQuery();

        CountRow().Should().Be(RealCount()).And.Be(6);
    }

    public void Dispose() => SqliteTestFolder.Delete(_folder);

    private SessionPersistence Open(int? maxSessions = null) =>
        SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Sqlite, StoragePath = _folder, MaxSessions = maxSessions });

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private object? Scalar(string sql)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private void Execute(string sql)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private long CountRow() => (long)Scalar("SELECT sessions FROM session_count WHERE id = 0")!;

    private long RealCount() => (long)Scalar("SELECT count(*) FROM sessions")!;
}
