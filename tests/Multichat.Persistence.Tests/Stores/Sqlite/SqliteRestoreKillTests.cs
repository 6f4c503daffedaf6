using FluentAssertions;
using Microsoft.Data.Sqlite;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// A TestWorker restoring an archive into a Sqlite store is SIGKILLed half-way (<see cref="RestoreKillCheck"/>): each
/// session is replaced in one transaction, so each must be as before or as archived, and the file must open cleanly
/// with its counters and id index right. Each round kills after another number of sessions.
/// </summary>
public sealed class SqliteRestoreKillTests(ITestOutputHelper output) : IDisposable
{
    private const int MessagesPerSession = 1500;

    private readonly string _folder = SqliteTestFolder.Create();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Restore_WorkerKilledHalfWay_LeavesEachSessionAsItWasOrAsArchived()
    {
        var rounds = SqliteFaultRounds.Get(normal: 3);
        for (var round = 0; round < rounds; round++)
        {
            var folder = Path.Combine(_folder, $"round-{round}");

            // A progress past k whole sessions is only reported once the k-th replacement has committed.
            var killAfter = (MessagesPerSession * (1 + (round % 6))) + 1;
            var (asArchive, asBefore) = await RestoreKillCheck.RunAsync(() => Open(folder), ["Sqlite", folder], killAfter, Ct);

            SqliteTestFiles.IntegrityCheck(folder).Should().Be("ok");
            Counts(folder).Should().Be((10L, 10L), "the session_count triggers saw one delete and one insert per replaced session");
            await using (var store = Open(folder))
            {
                (await store.AddMessageAsync(new ChatMessage { Id = "new-1", SessionId = "s-0", Sender = "a", Content = "retried" }, Ct)).Sequence
                    .Should().Be(1, "a retry of an archived message id is recognised as stored");
                (await store.ListSessionsAsync(new SessionQuery { Participant = "a", Limit = 100 }, Ct)).Sessions.Should().HaveCount(10);
                (await store.ListSessionsAsync(new SessionQuery { Participant = "c", Limit = 100 }, Ct)).Sessions.Should().BeEmpty();
            }

            output.WriteLine($"round {round}: killed after {killAfter}+ restored messages; {asArchive} sessions as archived, {asBefore} as before");
        }
    }

    public void Dispose() => SqliteTestFolder.Delete(_folder);

    private static SessionPersistence Open(string folder) =>
        SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Sqlite, StoragePath = folder });

    /// <summary>The session_count row and the real number of session rows.</summary>
    private static (long Row, long Real) Counts(string folder)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "sessions.db"), Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT sessions FROM session_count WHERE id = 0), (SELECT count(*) FROM sessions)";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
