using System.Buffers.Binary;
using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>MaxSessions on the Json store: the session count file, across processes, instances and crashes.</summary>
public sealed class JsonStoreSessionLimitTests : IDisposable
{
    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string CountPath => Path.Combine(_folder.Root, "sessions.count");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public Task CreateSession_FourProcessesRacingUnderMaxSessions_StoreExactlyTheLimit() =>
        SessionLimitRace.RunAsync("Json", _folder.Root, 4, 25, 50, () => SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Json,
            StoragePath = _folder.Root,
        }));

    [Fact]
    public Task CreateSession_FourProcessesEvictingUnderMaxSessions_AllSucceedAndStoreExactlyTheLimit() =>
        SessionLimitRace.RunEvictingAsync("Json", _folder.Root, 4, 15, 20, () => SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Json,
            StoragePath = _folder.Root,
        }));

    [Fact]
    public async Task CreateSession_CountFileTooHigh_CreatesUpToTheRealLimit()
    {
        await using var store = SessionPersistence.Create(Limited(5));
        await CreateAsync(store, "a", "b", "c");

        // As a crashed creator would leave it, only higher: every create that trusted it would be refused.
        WriteCount(1_000);

        await CreateAsync(store, "d", "e");
        var act = () => store.CreateSessionAsync("f", ["x"], cancellationToken: Ct);
        await act.Should().ThrowAsync<QuotaExceededException>();
        (await store.GetStatisticsAsync(Ct)).SessionCount.Should().Be(5);
    }

    [Fact]
    public async Task CreateSession_SessionFolderDeletedByHand_FreesItsSlot()
    {
        await using (var store = SessionPersistence.Create(Limited(3)))
        {
            await CreateAsync(store, "a", "b", "c");
        }

        // A crash between a delete and the count's decrement leaves the same thing: a count one too high.
        Directory.Delete(_folder.FolderOf("b"), recursive: true);

        await using var reopened = SessionPersistence.Create(Limited(3));
        await CreateAsync(reopened, "d");
        var act = () => reopened.CreateSessionAsync("e", ["x"], cancellationToken: Ct);
        await act.Should().ThrowAsync<QuotaExceededException>();
    }

    [Fact]
    public async Task DeleteSession_AtMaxSessions_FreesASlot()
    {
        await using var store = SessionPersistence.Create(Limited(2));
        await CreateAsync(store, "a", "b");

        (await store.DeleteSessionAsync("a", Ct)).Should().BeTrue();

        await CreateAsync(store, "c");
        ReadCount().Should().Be(2, "a delete by an instance that creates under a limit lowers the count, so no recount is needed");
        var act = () => store.CreateSessionAsync("d", ["x"], cancellationToken: Ct);
        await act.Should().ThrowAsync<QuotaExceededException>();
    }

    [Fact]
    public async Task CreateSession_OtherInstanceCreatedWithoutALimit_IsCounted()
    {
        await using var limited = SessionPersistence.Create(Limited(3));
        await using var unlimited = SessionPersistence.Create(_folder.Options());
        await CreateAsync(limited, "a");

        await CreateAsync(unlimited, "b", "c");

        var act = () => limited.CreateSessionAsync("d", ["x"], cancellationToken: Ct);
        await act.Should().ThrowAsync<QuotaExceededException>();
        (await limited.GetStatisticsAsync(Ct)).SessionCount.Should().Be(3);
    }

    [Fact]
    public async Task CreateSession_AfterImports_CountsTheImportedSessions()
    {
        await using var limited = SessionPersistence.Create(Limited(3));
        await CreateAsync(limited, "a");

        foreach (var id in new[] { "b", "c" })
        {
            await limited.Store.ImportSessionAsync(new ChatSession { SessionId = id, Participants = ["x"], Version = 1 }, replaceExisting: false, Ct);
        }

        var act = () => limited.CreateSessionAsync("d", ["x"], cancellationToken: Ct);
        await act.Should().ThrowAsync<QuotaExceededException>();
    }

    [Fact]
    public async Task CreateSession_ExistingIdAtTheLimit_ThrowsAlreadyExistsAndKeepsTheCount()
    {
        await using var store = SessionPersistence.Create(Limited(2));
        await CreateAsync(store, "a");

        var again = () => store.CreateSessionAsync("a", ["x"], cancellationToken: Ct);
        await again.Should().ThrowAsync<SessionAlreadyExistsException>();

        await CreateAsync(store, "b");
        ReadCount().Should().Be(2, "the refused create gave its reservation back");
        await again.Should().ThrowAsync<SessionAlreadyExistsException>("an existing id is a conflict, also at the limit");
    }

    [Fact]
    public async Task CreateSession_CountLockHeldElsewhere_GivesUpAfterJsonLockTimeout()
    {
        var options = Limited(5);
        options.JsonLockTimeout = TimeSpan.FromMilliseconds(200);
        await using var store = SessionPersistence.Create(options);
        await CreateAsync(store, "a");

        // What another process in the middle of a limited create holds.
        using (File.Open(CountPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            var act = () => store.CreateSessionAsync("b", ["x"], cancellationToken: Ct);
            await act.Should().ThrowAsync<StoreUnavailableException>().WithMessage("*JsonLockTimeout*");
        }

        await CreateAsync(store, "b");
    }

    private SessionPersistenceOptions Limited(int maxSessions)
    {
        var options = _folder.Options();
        options.MaxSessions = maxSessions;
        return options;
    }

    private static async Task CreateAsync(SessionPersistence store, params string[] ids)
    {
        foreach (var id in ids)
        {
            await store.CreateSessionAsync(id, ["x"], cancellationToken: Ct);
        }
    }

    // The record's layout is documented in docs/storage/json.md: magic, then the count as a little-endian int64.
    private long ReadCount() => BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(CountPath).AsSpan(8));

    private void WriteCount(long count)
    {
        var bytes = File.ReadAllBytes(CountPath);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), count);
        File.WriteAllBytes(CountPath, bytes);
    }
}
