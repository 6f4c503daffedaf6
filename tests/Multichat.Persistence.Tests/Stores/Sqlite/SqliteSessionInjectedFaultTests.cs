using FluentAssertions;
using Multichat.Persistence.Stores.Sqlite;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// The injected I/O errors of <see cref="SqliteStoreInjectedFaultTests"/> for the session writes (create under
/// MaxSessions, refusing or evicting, update, delete), for opening (creating the schema of a new file, migrating a
/// version-1 file) and for closing (the checkpoint of the last connection): at every fault point, one at a time, the
/// caller sees <see cref="StoreUnavailableException"/>, the write is there whole or not at all, the same instance keeps
/// working (a retry succeeds, the session limit still counts right), and the file passes integrity_check after reopening.
/// </summary>
public sealed class SqliteSessionInjectedFaultTests(ITestOutputHelper output)
{
    private const int MaxSessions = 3;

    private static readonly string[] DeletedAndKept = ["s", "keep"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateSession_IoErrorAtEachFaultPoint_CreatesWholeOrNothingAndTheLimitStillCounts()
    {
        var count = await ForEachPointAsync(
            "create",
            async store =>
            {
                await store.CreateSessionAsync("a", ["p"], cancellationToken: Ct);
                await store.CreateSessionAsync("b", ["p"], cancellationToken: Ct);
            },
            store => store.CreateSessionAsync("new", ["p", "q"], "title", cancellationToken: Ct),
            async (store, folder, fired) =>
            {
                var committed = SqliteFaultChecks.AfterCommit(fired);
                (await store.GetSessionAsync("new", Ct) is not null).Should().Be(committed, fired);
                SqliteFaultChecks.FileShouldBeConsistent(folder);
                var retry = () => store.CreateSessionAsync("new", ["p", "q"], "title", cancellationToken: Ct);
                if (committed)
                {
                    await retry.Should().ThrowAsync<SessionAlreadyExistsException>();
                }
                else
                {
                    await retry();
                }

                // The count row rolled back with the insert: the limit admits exactly the sessions it should.
                var over = () => store.CreateSessionAsync("over", ["p"], cancellationToken: Ct);
                await over.Should().ThrowAsync<QuotaExceededException>(fired);
                (await store.ListSessionsAsync(new SessionQuery { Participant = "q" }, Ct)).Sessions.Select(s => s.SessionId).Should().Equal("new");
            });
        output.WriteLine($"create under MaxSessions: {count} points");
    }

    [Fact]
    public async Task CreateSession_IoErrorAtEachFaultPointOfAnEviction_EvictsAndCreatesWholeOrNothingAndReportsOnlyCommittedEvictions()
    {
        var count = await ForEachPointAsync(
            "create evicting",
            async store =>
            {
                // "a" is the least recently active: created first, its last append before "b" and "c" were created.
                await store.CreateSessionAsync("a", ["p", "q"], cancellationToken: Ct);
                await store.AddMessagesAsync("a", [new ChatMessage { Id = "m1", SessionId = "a", Sender = "p", Content = "x" }, new ChatMessage { Id = "m2", SessionId = "a", Sender = "q", Content = "y" }], Ct);
                await store.CreateSessionAsync("b", ["p"], cancellationToken: Ct);
                await store.CreateSessionAsync("c", ["p"], cancellationToken: Ct);
            },
            store => store.CreateSessionAsync("new", ["p", "r"], "title", cancellationToken: Ct),
            async (store, folder, fired, logs) =>
            {
                var committed = SqliteFaultChecks.AfterCommit(fired);
                (await store.GetSessionAsync("new", Ct) is not null).Should().Be(committed, fired);
                if (committed)
                {
                    (await store.GetSessionAsync("a", Ct)).Should().BeNull(fired);
                }
                else
                {
                    await SqliteFaultChecks.SessionShouldHoldAsync(store, "a", [("m1", 1), ("m2", 2)], 2, fired);
                }

                SqliteFaultChecks.FileShouldBeConsistent(folder);
                Evictions(logs).Should().BeEmpty("{0}: the caller saw the create fail, and a rolled-back eviction is no eviction", fired);

                var retry = () => store.CreateSessionAsync("new", ["p", "r"], "title", cancellationToken: Ct);
                if (committed)
                {
                    await retry.Should().ThrowAsync<SessionAlreadyExistsException>();
                    Evictions(logs).Should().BeEmpty(fired);
                }
                else
                {
                    await retry();
                    Evictions(logs).Should().ContainSingle(fired).Which.Should().Contain("session a,").And.Contain("session new under");
                }

                (await ListIdsAsync(store)).Should().BeEquivalentTo(["b", "c", "new"], fired);
                SqliteFaultChecks.Scalar(folder, "SELECT count(*) FROM messages WHERE session_id = 'a'").Should().Be(0);
                SqliteFaultChecks.Scalar(folder, "SELECT count(*) FROM session_participants WHERE session_id = 'a'").Should().Be(0);
                (await store.ListSessionsAsync(new SessionQuery { Participant = "q" }, Ct)).Sessions.Should().BeEmpty(fired);
                (await store.ListSessionsAsync(new SessionQuery { Participant = "r" }, Ct)).Sessions.Select(s => s.SessionId).Should().Equal("new");

                // The count row rolled back with the eviction: the next create evicts exactly one more ("b").
                await store.CreateSessionAsync("next", ["p"], cancellationToken: Ct);
                (await ListIdsAsync(store)).Should().BeEquivalentTo(["c", "new", "next"], fired);
                SqliteFaultChecks.FileShouldBeConsistent(folder);
            },
            SessionLimitPolicy.EvictLeastRecentlyActive);
        output.WriteLine($"create evicting under MaxSessions: {count} points");
    }

    [Fact]
    public async Task UpdateSession_IoErrorAtEachFaultPoint_UpdatesWholeOrNothingAndARetryUpdatesOnce()
    {
        var count = await ForEachPointAsync(
            "update",
            async store =>
            {
                await store.CreateSessionAsync("s", ["p", "q"], cancellationToken: Ct);
                await store.AddMessageAsync(new ChatMessage { Id = "m1", SessionId = "s", Sender = "p", Content = "x" }, Ct);
            },
            async store =>
            {
                var session = (await store.GetSessionAsync("s", Ct))!;
                await store.UpdateSessionAsync(session with { Title = "new", Participants = ["q", "r"] }, Ct);
            },
            async (store, folder, fired) =>
            {
                var committed = SqliteFaultChecks.AfterCommit(fired);
                var session = (await store.GetSessionAsync("s", Ct))!;
                session.Version.Should().Be(committed ? 2 : 1, fired);
                session.Title.Should().Be(committed ? "new" : null);
                session.Participants.Should().Equal(committed ? ["q", "r"] : ["p", "q"]);
                (await store.ListSessionsAsync(new SessionQuery { Participant = "r" }, Ct)).Sessions.Should().HaveCount(committed ? 1 : 0);
                SqliteFaultChecks.FileShouldBeConsistent(folder);

                // The caller retries with what it read before: a conflict when the update had committed.
                var stale = session with { Version = 1, Title = "new", Participants = ["q", "r"] };
                var retry = () => store.UpdateSessionAsync(stale, Ct);
                if (committed)
                {
                    await retry.Should().ThrowAsync<ConcurrencyConflictException>();
                }
                else
                {
                    (await retry()).Version.Should().Be(2);
                }

                (await store.ListSessionsAsync(new SessionQuery { Participant = "p" }, Ct)).Sessions.Should().BeEmpty();
                (await store.AddMessageAsync(new ChatMessage { Id = "m2", SessionId = "s", Sender = "q", Content = "y" }, Ct)).Sequence.Should().Be(2);
            });
        output.WriteLine($"update: {count} points");
    }

    [Fact]
    public async Task DeleteSession_IoErrorAtEachFaultPoint_DeletesWholeOrNothing()
    {
        var count = await ForEachPointAsync(
            "delete",
            async store =>
            {
                foreach (var id in DeletedAndKept)
                {
                    await store.CreateSessionAsync(id, ["p"], cancellationToken: Ct);
                    await store.AddMessagesAsync(id, [new ChatMessage { Id = "m1", SessionId = id, Sender = "p", Content = "x" }, new ChatMessage { Id = "m2", SessionId = id, Sender = "p", Content = "y" }], Ct);
                }
            },
            store => store.DeleteSessionAsync("s", Ct),
            async (store, folder, fired) =>
            {
                var committed = SqliteFaultChecks.AfterCommit(fired);
                if (committed)
                {
                    (await store.GetSessionAsync("s", Ct)).Should().BeNull(fired);
                }
                else
                {
                    await SqliteFaultChecks.SessionShouldHoldAsync(store, "s", [("m1", 1), ("m2", 2)], 2, fired);
                }

                SqliteFaultChecks.FileShouldBeConsistent(folder);
                (await store.DeleteSessionAsync("s", Ct)).Should().Be(!committed);
                SqliteFaultChecks.Scalar(folder, "SELECT count(*) FROM messages WHERE session_id = 's'").Should().Be(0);
                await SqliteFaultChecks.SessionShouldHoldAsync(store, "keep", [("m1", 1), ("m2", 2)], 2, fired);
            });
        output.WriteLine($"delete: {count} points");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Open_IoErrorAtEachFaultPointOfCreatingOrMigratingTheSchema_FailsTypedAndTheNextCallOpens(bool migrateVersion1)
    {
        var count = await ForEachPointAsync(
            migrateVersion1 ? "open v1" : "open new",
            _ => Task.CompletedTask,
            store => store.CreateSessionAsync("new", ["p"], cancellationToken: Ct),
            async (store, folder, fired) =>
            {
                if (fired.StartsWith("sqlite.schema.", StringComparison.Ordinal))
                {
                    (await store.GetSessionAsync("new", Ct)).Should().BeNull();
                    await store.CreateSessionAsync("new", ["p"], cancellationToken: Ct);
                }
                else
                {
                    (await store.GetSessionAsync("new", Ct) is not null).Should().Be(SqliteFaultChecks.AfterCommit(fired));
                }

                SqliteFaultChecks.Scalar(folder, "PRAGMA user_version").Should().Be(SqliteSchema.CurrentVersion);
                SqliteFaultChecks.FileShouldBeConsistent(folder);
                if (migrateVersion1)
                {
                    var planning = (await store.GetSessionAsync("planning", Ct))!;
                    planning.Participants.Should().Equal("Alice", "Bob");
                    planning.Title.Should().Be("Sprint planning");
                    (await StoredMessages.ReadAllAsync(store, "planning", Ct)).Select(m => m.Sequence).Should().Equal(2, 3);
                    (await store.AddMessageAsync(new ChatMessage { Id = "later", SessionId = "planning", Sender = "Alice", Content = "x" }, Ct)).Sequence.Should().Be(4);
                }
            },
            seedFile: migrateVersion1 ? "schema-v1.db" : null);
        output.WriteLine($"{(migrateVersion1 ? "migrating a v1 file" : "creating a new file")}: {count} points");
    }

    [Fact]
    public async Task Dispose_IoErrorAtEachFaultPointOfClosing_StillClosesAndLosesNothing()
    {
        var folder = SqliteTestFolder.Create();
        try
        {
            var faults = new InjectedIoFaults();
            var store = SqliteFaultChecks.Open(folder, faults);
            await store.CreateSessionAsync("s", ["p"], cancellationToken: Ct);
            faults.Trace();
            await store.DisposeAsync();
            var points = faults.Reached;
            points.Should().Equal("sqlite.close.before-checkpoint", "sqlite.close.after-checkpoint");
            for (var k = 1; k <= points.Count; k++)
            {
                store = SqliteFaultChecks.Open(folder, faults);
                (await store.AddMessageAsync(new ChatMessage { Id = $"m{k}", SessionId = "s", Sender = "p", Content = "x" }, Ct)).Sequence.Should().Be(k);
                faults.FailAt(k);
                var dispose = async () => await store.DisposeAsync();
                (await dispose.Should().ThrowAsync<StoreUnavailableException>()).WithInnerException<IOException>();

                // Closed all the same: the WAL was checkpointed into the file by the last connection to close.
                File.Exists(Path.Combine(folder, "sessions.db-wal")).Should().BeFalse(faults.Fired);
                SqliteFaultChecks.FileShouldBeConsistent(folder);
            }

            await using var reopened = SqliteFaultChecks.Open(folder);
            await SqliteFaultChecks.SessionShouldHoldAsync(reopened, "s", [("m1", 1), ("m2", 2)], 2, "after both closes failed");
        }
        finally
        {
            SqliteTestFolder.Delete(folder);
        }
    }

    /// <summary>The run below under a Reject session limit, for checks that need no log events.</summary>
    private static Task<int> ForEachPointAsync(
        string write,
        Func<SessionPersistence, Task> seed,
        Func<SessionPersistence, Task> act,
        Func<SessionPersistence, string, string, Task> check,
        string? seedFile = null) =>
        ForEachPointAsync(write, seed, act, (store, folder, fired, _) => check(store, folder, fired), SessionLimitPolicy.Reject, seedFile);

    /// <summary>
    /// Traces <paramref name="act"/> after <paramref name="seed"/> on a fresh file, then for every k fails its k-th
    /// point on another fresh file and runs <paramref name="check"/> on the same instance (with that instance's log
    /// events), then reopens and checks the file. Returns how many points the write reached.
    /// </summary>
    private static async Task<int> ForEachPointAsync(
        string write,
        Func<SessionPersistence, Task> seed,
        Func<SessionPersistence, Task> act,
        Func<SessionPersistence, string, string, CapturingLoggerFactory, Task> check,
        SessionLimitPolicy policy,
        string? seedFile = null)
    {
        IReadOnlyList<string>? points = null;
        for (var k = 0; points is null || k <= points.Count; k++)
        {
            var folder = SqliteTestFolder.Create();
            try
            {
                if (seedFile is not null)
                {
                    File.Copy(SqliteTestFiles.Fixture(seedFile), Path.Combine(folder, "sessions.db"));
                }

                var faults = new InjectedIoFaults();
                using var logs = new CapturingLoggerFactory();
                await using (var store = SqliteFaultChecks.Open(folder, faults, maxSessions: MaxSessions, sessionLimitPolicy: policy, logs: logs))
                {
                    await seed(store);
                    if (k == 0)
                    {
                        faults.Trace();
                        await act(store);
                        points = faults.Reached;
                        points.Should().NotBeEmpty(write);
                        continue;
                    }

                    faults.FailAt(k);
                    var run = () => act(store);
                    (await run.Should().ThrowAsync<StoreUnavailableException>($"{write} failed at {points![k - 1]}")).WithInnerException<IOException>();
                    faults.Fired.Should().Be(points![k - 1]);
                    await check(store, folder, faults.Fired!, logs);
                }

                SqliteFaultChecks.FileShouldBeConsistent(folder);
                await using var reopened = SqliteFaultChecks.Open(folder);
                (await reopened.CheckHealthAsync(Ct)).Status.Should().Be(StoreHealthStatus.Healthy);
            }
            finally
            {
                SqliteTestFolder.Delete(folder);
            }
        }

        return points!.Count;
    }

    private static List<string> Evictions(CapturingLoggerFactory logs) => [.. logs.Events.Where(e => e.Id.Id == 607).Select(e => e.Message)];

    private static async Task<List<string>> ListIdsAsync(SessionPersistence store)
    {
        var ids = new List<string>();
        await foreach (var id in store.Store.ListSessionIdsAsync(Ct))
        {
            ids.Add(id);
        }

        return ids;
    }
}
