using FluentAssertions;
using Multichat.Persistence.Internal;
using Multichat.Persistence.Stores.Sqlite;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// Two faults in a row, which the one-fault runs of <see cref="SqliteStoreInjectedFaultTests"/> never reach: a step of a
/// write fails and then so does its ROLLBACK, leaving the transaction open on the store's one writer connection. The
/// caller sees the write's failure; the same instance's next write must still work, without the half-done write and
/// without reporting a file that is fine as damaged.
/// </summary>
public sealed class SqliteFailedRollbackTests : IDisposable
{
    private readonly string _folder = SqliteTestFolder.Create();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(SqliteFaultPoints.AppendAfterInsert)]
    [InlineData(SqliteFaultPoints.AppendBeforeCommit)]
    public async Task AppendMessages_StepAndItsRollbackFail_TheNextWriteOfTheSameInstanceWorksWithoutTheFailedOne(string point)
    {
        var failing = new Queue<string>();
        var options = new SessionPersistenceOptions { StorageType = StorageType.Sqlite, StoragePath = _folder };
        options.FaultInjection = new FaultInjection(reached =>
        {
            lock (failing)
            {
                if (failing.TryPeek(out var next) && next == reached)
                {
                    failing.Dequeue();
                    throw new IOException($"Injected I/O error at {reached}.");
                }
            }
        });
        await using var store = SessionPersistence.Create(options);
        await store.CreateSessionAsync("s", ["p"], cancellationToken: Ct);
        await store.AddMessageAsync(Message("m1"), Ct);

        failing.Enqueue(point);
        failing.Enqueue(SqliteFaultPoints.WriteBeforeRollback);
        var append = () => store.AddMessageAsync(Message("lost"), Ct);
        (await append.Should().ThrowAsync<StoreUnavailableException>()).WithInnerException<IOException>();
        failing.Should().BeEmpty("the write failed and then its rollback did");

        (await store.AddMessageAsync(Message("m2"), Ct)).Sequence.Should().Be(2, "the failed append was never committed");
        (await store.UpdateSessionAsync((await store.GetSessionAsync("s", Ct))! with { Title = "t" }, Ct)).Version.Should().Be(2);
        (await store.CheckHealthAsync(Ct)).Status.Should().Be(StoreHealthStatus.Healthy, "a failed rollback is no damage to the file");
        await store.DisposeAsync();

        await using var reopened = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Sqlite, StoragePath = _folder });
        await SqliteFaultChecks.SessionShouldHoldAsync(reopened, "s", [("m1", 1), ("m2", 2)], 2, "after reopening");
        SqliteFaultChecks.FileShouldBeConsistent(_folder);
    }

    public void Dispose() => SqliteTestFolder.Delete(_folder);

    private static ChatMessage Message(string id) => new() { Id = id, SessionId = "s", Sender = "p", Content = "x" };
}
