using System.Diagnostics;
using FluentAssertions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Multichat.Persistence.Stores.Sqlite;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// Another connection (as another process would) holding the database's write lock: the store waits for it within its
/// busy timeout, reports <see cref="StoreUnavailableException"/> beyond it, honours cancellation while waiting, and
/// keeps serving reads meanwhile (WAL).
/// </summary>
public sealed class SqliteLockingTests : IAsyncLifetime
{
    private readonly string _folder = SqliteTestFolder.Create();
    private SqliteConnection _blocker = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => Path.Combine(_folder, "sessions.db");

    public async ValueTask InitializeAsync()
    {
        await using (var store = SqliteSchemaTests.Open(_folder))
        {
            await store.CreateSessionAsync("s-1", ["p"], cancellationToken: Ct);
            await store.AddMessageAsync(Message("before"), Ct);
        }

        _blocker = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        _blocker.Open();
    }

    [Fact]
    public async Task AddMessage_WriteLockHeldLongerThanOneBusyRound_WaitsAndSucceeds()
    {
        await using var store = Open(TimeSpan.FromSeconds(30));
        await store.GetSessionAsync("s-1", Ct); // opened before the lock is taken
        HoldWriteLock();

        var append = store.AddMessageAsync(Message("waiting"), Ct);
        await Task.Delay(TimeSpan.FromMilliseconds(2500), Ct);
        append.IsCompleted.Should().BeFalse("the other connection still holds the write lock");
        (await store.GetMessagesAsync("s-1", 10, Ct)).Should().ContainSingle("readers never wait for a writer in WAL mode");
        ReleaseWriteLock();

        (await append).Sequence.Should().Be(2);
    }

    [Fact]
    public async Task AddMessage_WriteLockHeldBeyondTheBusyTimeout_ThrowsStoreUnavailableAndStoresNothing()
    {
        await using var store = Open(TimeSpan.FromMilliseconds(500));
        await store.GetSessionAsync("s-1", Ct);
        HoldWriteLock();

        var act = () => store.AddMessageAsync(Message("late"), Ct);

        var thrown = await act.Should().ThrowAsync<StoreUnavailableException>();
        thrown.Which.InnerException.Should().BeOfType<SqliteException>().Which.SqliteErrorCode.Should().Be(5); // SQLITE_BUSY
        ReleaseWriteLock();
        (await store.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Id).Should().Equal("before");
    }

    [Fact]
    public async Task AddMessage_CanceledWhileWaitingForTheLock_ThrowsOperationCanceledAndStoresNothing()
    {
        await using var store = Open(TimeSpan.FromSeconds(30));
        await store.GetSessionAsync("s-1", Ct);
        HoldWriteLock();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(300));

        var act = () => store.AddMessageAsync(Message("canceled"), cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        ReleaseWriteLock();
        (await store.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Id).Should().Equal("before");
    }

    [Fact]
    public async Task AddMessage_ThreeConcurrentCallsWhileTheLockIsHeld_EachFailsWithinTheBusyTimeoutOfItsOwnStart()
    {
        // Issue 9, item 3: callers queued on the store's in-process gate used to start their busy timeout only once
        // they passed it, so the second and third failed after 2x and 3x the timeout.
        var busyTimeout = TimeSpan.FromSeconds(1);
        await using var store = Open(busyTimeout);
        await store.GetSessionAsync("s-1", Ct);
        HoldWriteLock();

        var calls = Enumerable.Range(0, 3).Select(i => Task.Run(() => TimedAsync(() => store.AddMessageAsync(Message($"queued-{i}"), Ct)), Ct)).ToArray();
        var outcomes = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        outcomes.Should().AllSatisfy(o => o.Thrown.Should().BeOfType<StoreUnavailableException>());
        outcomes.Should().AllSatisfy(o => o.Elapsed.Should().BeLessThan(
            TimeSpan.FromSeconds(2.5), "each call's wait is bounded by the busy timeout from its own start (1 s plus a margin for a loaded machine)"));
        ReleaseWriteLock();
        (await store.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Id).Should().Equal("before");
    }

    [Fact]
    public async Task AddMessage_CanceledWhileQueuedBehindAnotherWaitingCall_ThrowsOperationCanceledPromptly()
    {
        await using var store = Open(TimeSpan.FromSeconds(30));
        await store.GetSessionAsync("s-1", Ct);
        HoldWriteLock();
        using var first = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var ahead = Task.Run(() => TimedAsync(() => store.AddMessageAsync(Message("ahead"), first.Token)), Ct);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(300));

        var queued = await Task.Run(() => TimedAsync(() => store.AddMessageAsync(Message("queued"), cancel.Token)), Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        queued.Thrown.Should().BeAssignableTo<OperationCanceledException>();
        queued.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2), "the token is honoured while waiting behind another call, not only at the lock");
        await first.CancelAsync();
        var aheadOutcome = await ahead.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        aheadOutcome.Thrown.Should().BeAssignableTo<OperationCanceledException>();
        aheadOutcome.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10));
        ReleaseWriteLock();
        (await store.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Id).Should().Equal("before");
    }

    public ValueTask DisposeAsync()
    {
        _blocker.Dispose();
        SqliteTestFolder.Delete(_folder);
        return ValueTask.CompletedTask;
    }

    private static async Task<(Exception? Thrown, TimeSpan Elapsed)> TimedAsync(Func<Task> call)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            await call();
            return (null, watch.Elapsed);
        }
        catch (Exception ex)
        {
            return (ex, watch.Elapsed);
        }
    }

    private static ChatMessage Message(string id) => new() { Id = id, SessionId = "s-1", Sender = "p", Content = id };

    private SessionPersistence Open(TimeSpan busyTimeout) => new(
        new SqliteStore(new SqliteStoreOptions($"Data Source={DatabasePath}", Durability.Normal, busyTimeout, TimeProvider.System), NullLogger.Instance),
        new SessionPersistenceOptions { StorageType = StorageType.Sqlite });

    private void HoldWriteLock()
    {
        using var command = _blocker.CreateCommand();
        command.CommandText = "BEGIN IMMEDIATE; INSERT INTO session_participants VALUES ('s-1', 99, 'lock holder');";
        command.ExecuteNonQuery();
    }

    private void ReleaseWriteLock()
    {
        using var command = _blocker.CreateCommand();
        command.CommandText = "ROLLBACK";
        command.ExecuteNonQuery();
    }
}
