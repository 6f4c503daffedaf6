using FluentAssertions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Stores.Sqlite;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// The limit policies on the Sqlite store beyond the conformance suite: the eviction victim is the first key of
/// <c>session_activity</c> (the session <c>ListSessionsAsync</c> lists last, ids in code-point order), a create evicts
/// as many as a lowered limit needs, hand-edited activity rows do not stop an eviction, store instances over one file
/// never pass the limit together, and a refused append counts only what it would store.
/// </summary>
public sealed class SqliteLimitPolicyTests : IDisposable
{
    private readonly string _folder = SqliteTestFolder.Create();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateSession_UnderEvictWithEqualActivity_EvictsTheLowestIdInCodePointOrderAsListedLast()
    {
        // U+E000 is below U+1F600 as a code point, but above its UTF-16 surrogates: only code-point order picks it.
        const string Private = "\uE000";
        const string Emoji = "\U0001F600";
        using var logs = new CapturingLoggerFactory();
        await using var store = Open(o => (o.MaxSessions, o.SessionLimitPolicy) = (2, SessionLimitPolicy.EvictLeastRecentlyActive), logs);
        await store.CreateSessionAsync(Emoji, ["p"], cancellationToken: Ct);
        await store.CreateSessionAsync(Private, ["p"], cancellationToken: Ct);
        var listed = (await store.ListSessionsAsync(cancellationToken: Ct)).Sessions.Select(s => s.SessionId).ToList();

        await store.CreateSessionAsync("new", ["p"], cancellationToken: Ct);

        listed.Should().Equal(Emoji, Private);
        (await store.GetSessionAsync(Private, Ct)).Should().BeNull("it was listed last");
        (await store.GetSessionAsync(Emoji, Ct)).Should().NotBeNull();
        logs.Events.Where(e => e.Id.Id == 607).Should().ContainSingle().Which.Message.Should().Contain($"session {Private},");
        SqliteFaultChecks.FileShouldBeConsistent(_folder);
    }

    [Fact]
    public async Task CreateSession_UnderALoweredEvictLimit_EvictsOldestFirstUntilThereIsRoomAndReportsEach()
    {
        await using (var unlimited = Open())
        {
            foreach (var id in new[] { "a", "b", "c", "d" })
            {
                _clock.Advance(TimeSpan.FromSeconds(1));
                await unlimited.CreateSessionAsync(id, ["p"], cancellationToken: Ct);
                await unlimited.AddMessageAsync(new ChatMessage { Id = "m", SessionId = id, Sender = "p", Content = "x" }, Ct);
            }

            _clock.Advance(TimeSpan.FromSeconds(1));
            await unlimited.AddMessageAsync(new ChatMessage { Id = "later", SessionId = "a", Sender = "p", Content = "x" }, Ct);
        }

        using var logs = new CapturingLoggerFactory();
        await using var store = Open(o => (o.MaxSessions, o.SessionLimitPolicy) = (2, SessionLimitPolicy.EvictLeastRecentlyActive), logs);
        _clock.Advance(TimeSpan.FromSeconds(1));
        await store.CreateSessionAsync("new", ["p"], cancellationToken: Ct);

        (await store.ListSessionsAsync(cancellationToken: Ct)).Sessions.Select(s => s.SessionId).Should().Equal("new", "a");
        logs.Events.Where(e => e.Id.Id == 607).Select(e => e.Message.Split(',')[0])
            .Should().Equal("Evicted session b", "Evicted session c", "Evicted session d");
        Scalar("SELECT count(*) FROM messages").Should().Be(2, "only a's messages are left");
        SqliteFaultChecks.FileShouldBeConsistent(_folder);
    }

    [Fact]
    public async Task CreateSession_UnderEvictWithAnActivityRowWithoutItsSession_DropsThatRowAndEvictsARealSession()
    {
        await using var store = Open(o => (o.MaxSessions, o.SessionLimitPolicy) = (2, SessionLimitPolicy.EvictLeastRecentlyActive));
        await store.CreateSessionAsync("a", ["p"], cancellationToken: Ct);
        await store.CreateSessionAsync("b", ["p"], cancellationToken: Ct);
        Execute("INSERT INTO session_activity (updated_at, session_id) VALUES (0, 'ghost')");

        await store.CreateSessionAsync("c", ["p"], cancellationToken: Ct);

        (await store.ListSessionsAsync(cancellationToken: Ct)).Sessions.Select(s => s.SessionId).Should().Equal("c", "b");
        SqliteFaultChecks.FileShouldBeConsistent(_folder);
    }

    [Fact]
    public async Task CreateSession_UnderEvictWithEveryActivityRowDeletedByHand_RestoresThemAndEvictsTheLeastRecentlyActive()
    {
        await using var store = Open(o => (o.MaxSessions, o.SessionLimitPolicy) = (2, SessionLimitPolicy.EvictLeastRecentlyActive));
        await store.CreateSessionAsync("a", ["p"], cancellationToken: Ct);
        _clock.Advance(TimeSpan.FromSeconds(1));
        await store.CreateSessionAsync("b", ["p"], cancellationToken: Ct);
        _clock.Advance(TimeSpan.FromSeconds(1));
        await store.AddMessageAsync(new ChatMessage { Id = "m", SessionId = "a", Sender = "p", Content = "x" }, Ct);
        Execute("DELETE FROM session_activity");
        _clock.Advance(TimeSpan.FromSeconds(1));

        await store.CreateSessionAsync("c", ["p"], cancellationToken: Ct);

        (await store.ListSessionsAsync(cancellationToken: Ct)).Sessions.Select(s => s.SessionId).Should().Equal("c", "a");
        SqliteFaultChecks.FileShouldBeConsistent(_folder);
    }

    [Fact]
    public async Task CreateSession_FourInstancesRacingUnderEvict_AllSucceedTheLimitHoldsAndEachEvictionIsReportedOnce()
    {
        // Each instance has its own writer connection over the file, as another process would: they meet only in
        // SQLite's write lock.
        const int Max = 5;
        using var logs = new CapturingLoggerFactory();
        var instances = new List<SessionPersistence>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                instances.Add(Open(o => (o.MaxSessions, o.SessionLimitPolicy) = (Max, SessionLimitPolicy.EvictLeastRecentlyActive), logs));
            }

            await Task.WhenAll(Enumerable.Range(0, 40).Select(i => instances[i % 4].CreateSessionAsync($"race-{i}", ["p"], cancellationToken: Ct)));

            var left = (await instances[0].ListSessionsAsync(new SessionQuery { Limit = 100 }, Ct)).Sessions.Select(s => s.SessionId).ToList();
            left.Should().HaveCount(Max);
            var evicted = logs.Events.Where(e => e.Id.Id == 607).Select(e => e.Message.Split(',')[0]["Evicted session ".Length..]).ToList();
            evicted.Should().HaveCount(40 - Max).And.OnlyHaveUniqueItems().And.NotIntersectWith(left);
            Scalar("SELECT sessions FROM session_count").Should().Be(Max);
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }

        SqliteFaultChecks.FileShouldBeConsistent(_folder);
    }

    [Fact]
    public async Task AddMessages_RefusedUnderReject_CountsOnlyIdsNeitherStoredNorRepeated()
    {
        await using var store = Open(o => (o.MaxMessagesPerSession, o.MessageLimitPolicy) = (4, MessageLimitPolicy.Reject));
        await store.CreateSessionAsync("s", ["p"], cancellationToken: Ct);
        await store.AddMessagesAsync("s", [Message("m1"), Message("m2"), Message("m3")], Ct);

        var fits = await store.AddMessagesAsync("s", [Message("m2"), Message("n1"), Message("n1")], Ct);
        var refused = () => store.AddMessagesAsync("s", [Message("m1"), Message("n1"), Message("n1"), Message("n2")], Ct);

        fits.Select(m => (m.Id, m.Sequence)).Should().Equal([("m2", 2L), ("n1", 4L), ("n1", 4L)], "n1 is one new message, however often the batch repeats it");
        await refused.Should().ThrowAsync<QuotaExceededException>().WithMessage("*holds 4 messages; 1 more*limit of 4*");
        Scalar("SELECT count(*) FROM messages").Should().Be(4);
        Scalar("SELECT max(seq) FROM messages").Should().Be(4, "the refusal took no sequence");
    }

    public void Dispose() => SqliteTestFolder.Delete(_folder);

    private static ChatMessage Message(string id) => new() { Id = id, SessionId = "s", Sender = "p", Content = $"content of {id}" };

    private SessionPersistence Open(Action<SessionPersistenceOptions>? configure = null, CapturingLoggerFactory? logs = null)
    {
        var options = new SessionPersistenceOptions { StorageType = StorageType.Sqlite, StoragePath = _folder, TimeProvider = _clock };
        configure?.Invoke(options);
        return SessionPersistence.Create(options, logs);
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_folder, SqliteStore.FileName), Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private long Scalar(string sql)
    {
        using var connection = Connect();
        return SqliteFaultChecks.Scalar(connection, sql);
    }

    private void Execute(string sql)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
