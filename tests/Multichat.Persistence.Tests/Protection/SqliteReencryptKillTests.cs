using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Sqlite;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>
/// A TestWorker re-encrypting a Sqlite store is SIGKILLed inside a session's replacement transaction
/// (<see cref="ReencryptKillCheck"/>): nothing is lost, the sessions it finished are under the new key, a second run
/// finishes the job, and the file passes SQLite's integrity check.
/// </summary>
public sealed class SqliteReencryptKillTests : IDisposable
{
    private readonly string _folder = SqliteTestFolder.Create();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => SqliteTestFolder.Delete(_folder);

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public async Task Reencrypt_WorkerKilledHalfWay_LosesNothingAndASecondRunFinishes(int sessionsDone)
    {
        var folder = Path.Combine(_folder, $"done-{sessionsDone}");

        await ReencryptKillCheck.RunAsync(
            layers =>
            {
                var options = new SessionPersistenceOptions { StorageType = StorageType.Sqlite, StoragePath = folder };
                layers(options);
                return SessionPersistence.Create(options);
            },
            ["Sqlite", folder],
            sessionsDone,
            Ct);

        SqliteTestFiles.IntegrityCheck(folder).Should().Be("ok");
    }
}
