using FluentAssertions;
using Microsoft.Data.Sqlite;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// A real full disk (a small tmpfs filled to ENOSPC, see <see cref="SmallTmpfs"/>) under the store: every write fails
/// with <see cref="StoreUnavailableException"/> (SQLITE_FULL inside, as the store maps any I/O failure) and leaves nothing
/// half-written; the same instance reads on; once space is freed, retrying every write with the same ids stores each
/// exactly once, sequences continue where they were, and the file and its WAL pass integrity_check, before and after
/// reopening. Also: opening a store whose disk is already full.
/// </summary>
public sealed class SqliteFullDiskTests(ITestOutputHelper output)
{
    private const long DiskBytes = 8L * 1024 * 1024;
    private const int Seeded = 20;

    private static readonly string Content = new('x', 3000);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Writes_OnAFullDisk_FailTypedWriteNothingAndARetryAfterFreeingStoresEachOnce()
    {
        using var disk = SmallTmpfs.MountOrSkip(DiskBytes);
        var folder = Path.Combine(disk.Path, "store");
        await using var store = SqliteFaultChecks.Open(folder, maxSessions: 10);
        await store.CreateSessionAsync("s", ["p"], cancellationToken: Ct);
        await store.CreateSessionAsync("u", ["p"], cancellationToken: Ct);
        await store.CreateSessionAsync("d", ["p"], cancellationToken: Ct);
        await store.AddMessagesAsync("s", Enumerable.Range(1, Seeded).Select(i => Message("s", $"m{i}")), Ct);
        await store.AddMessageAsync(Message("d", "d1"), Ct);

        var writes = new (string Name, Func<Task> Write)[]
        {
            ("append", () => store.AddMessageAsync(Message("s", "a1"), Ct)),
            ("batch", () => store.AddMessagesAsync("s", Enumerable.Range(1, 40).Select(i => Message("s", $"b{i}")), Ct)),
            ("create", () => store.CreateSessionAsync("new", ["p", "q"], "a title " + Content, cancellationToken: Ct)),
            ("update", async () =>
            {
                var session = (await store.GetSessionAsync("u", Ct))!;
                await store.UpdateSessionAsync(session with { Title = "updated " + Content }, Ct);
            }),
            ("import", () => store.ImportAsync(ImportItems("imp", 60), cancellationToken: Ct)),
            ("trim", () => store.TrimMessagesAsync("s", 5, Ct)),
            ("delete", () => store.DeleteSessionAsync("d", Ct)),
        };

        disk.Fill();
        var failed = new List<string>();
        foreach (var (name, write) in writes)
        {
            try
            {
                await write();
                output.WriteLine($"{name}: succeeded on the full disk (the WAL had room)");
            }
            catch (StoreUnavailableException ex)
            {
                failed.Add(name);
                output.WriteLine($"{name}: {ex.InnerException?.GetType().Name} {(ex.InnerException as SqliteException)?.SqliteErrorCode}: {ex.Message}");
                (ex.InnerException as SqliteException)?.SqliteErrorCode.Should().BeOneOf(13, 10); // SQLITE_FULL, or SQLITE_IOERR for the -shm
            }

            // The same instance reads on, and sees the write either whole or not at all.
            (await store.GetSessionAsync("s", Ct)).Should().NotBeNull();
        }

        failed.Should().Contain(["append", "batch", "create", "import"], "each needs new pages on a disk without one");
        var afterFull = await StoredMessages.ReadAllAsync(store, "s", Ct);
        afterFull.Should().HaveCount(failed.Contains("trim") ? Seeded : 5).And.OnlyContain(m => m.Id.StartsWith('m'));
        (await store.GetSessionAsync("new", Ct)).Should().BeNull();
        (await store.GetSessionAsync("imp", Ct)).Should().BeNull();
        (await store.GetSessionAsync("u", Ct))!.Version.Should().Be(failed.Contains("update") ? 1 : 2);

        disk.Free();
        SqliteFaultChecks.FileShouldBeConsistent(folder);
        foreach (var (name, write) in writes)
        {
            if (failed.Contains(name) && name != "import")
            {
                await write();
            }
        }

        await store.ImportAsync(ImportItems("imp", 60), replaceExisting: true, Ct);
        await RetryEveryIdAsync(store);
        await using var reopened = SqliteFaultChecks.Open(folder);
        await RetryEveryIdAsync(reopened);
        SqliteFaultChecks.FileShouldBeConsistent(folder);
        output.WriteLine($"failed on the full disk: {string.Join(", ", failed)}; after freeing, every retry stored once, integrity ok");
    }

    [Fact]
    public async Task Open_OnAnAlreadyFullDisk_FailsTypedAndOpensOnceFreed()
    {
        using var disk = SmallTmpfs.MountOrSkip(DiskBytes);
        var folder = Path.Combine(disk.Path, "store");
        await using (var store = SqliteFaultChecks.Open(folder))
        {
            await store.CreateSessionAsync("s", ["p"], cancellationToken: Ct);
            await store.AddMessagesAsync("s", Enumerable.Range(1, Seeded).Select(i => Message("s", $"m{i}")), Ct);
        }

        disk.Fill();
        await using (var full = SqliteFaultChecks.Open(folder))
        {
            try
            {
                (await StoredMessages.ReadAllAsync(full, "s", Ct)).Should().HaveCount(Seeded);
                output.WriteLine("reading on the full disk worked");
            }
            catch (StoreUnavailableException ex)
            {
                output.WriteLine($"reading on the full disk: {ex.Message}");
            }

            var append = () => full.AddMessageAsync(Message("s", "late"), Ct);
            var failure = await append.Should().ThrowAsync<StoreUnavailableException>();
            output.WriteLine($"appending on the full disk: {failure.Which.Message}");

            disk.Free();
            (await full.AddMessageAsync(Message("s", "late"), Ct)).Sequence.Should().Be(Seeded + 1, "the same instance works once there is room");
        }

        SqliteFaultChecks.FileShouldBeConsistent(folder);
        await using var reopened = SqliteFaultChecks.Open(folder);
        (await StoredMessages.ReadAllAsync(reopened, "s", Ct)).Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, Seeded + 1).Select(i => (long)i));
    }

    /// <summary>Every id once more: nothing is stored twice, and the next append continues the sequences.</summary>
    private static async Task RetryEveryIdAsync(SessionPersistence store)
    {
        string[] ids = [.. Enumerable.Range(1, Seeded).Select(i => $"m{i}"), "a1", .. Enumerable.Range(1, 40).Select(i => $"b{i}")];
        var before = await StoredMessages.ReadAllAsync(store, "s", Ct);
        foreach (var id in ids.Where(id => before.Any(m => m.Id == id)))
        {
            await store.AddMessageAsync(Message("s", id), Ct);
        }

        var after = await StoredMessages.ReadAllAsync(store, "s", Ct);
        after.Select(m => (m.Id, m.Sequence)).Should().Equal(before.Select(m => (m.Id, m.Sequence)));
        after.Should().HaveCount(5, "the trim kept the latest 5");
        after[^1].Sequence.Should().Be(Seeded + 41, "append and batch were each stored once after the failures");
        (await StoredMessages.ReadAllAsync(store, "imp", Ct)).Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, 60).Select(i => (long)i));
        (await store.GetSessionAsync("new", Ct))!.Participants.Should().Equal("p", "q");
        (await store.GetSessionAsync("u", Ct))!.Version.Should().Be(2);
        (await store.GetSessionAsync("d", Ct)).Should().BeNull();
    }

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "p", Content = Content };

    private static async IAsyncEnumerable<PortableItem> ImportItems(string sessionId, int count)
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        yield return PortableItem.ForSession(new ChatSession
        {
            SessionId = sessionId, Participants = ["p"], CreatedAt = at, UpdatedAt = at, MessageCount = count, LastSequence = count, Version = 1,
        });
        for (var i = 1; i <= count; i++)
        {
            yield return PortableItem.ForMessage(Message(sessionId, $"i{i}") with { Sequence = i, Timestamp = at.AddSeconds(i) });
        }

        await Task.CompletedTask;
    }
}
