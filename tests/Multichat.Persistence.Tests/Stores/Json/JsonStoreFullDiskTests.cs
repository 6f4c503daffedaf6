using System.Text;
using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;
using static Multichat.Persistence.Tests.Stores.Json.JsonFaultChecks;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// Issue #9: the Json store on a real full disk (a small tmpfs filled to ENOSPC, see <see cref="SmallTmpfs"/>). Every
/// write path (append, batch, trim, create, update, import, id-file growth) fails with a typed exception and leaves nothing half-visible; once space is freed, a retry with the same
/// ids stores each once, sequences are not reused and the files pass <see cref="JsonFaultChecks.Integrity"/>. Skipped
/// where mount is not allowed.
/// </summary>
public sealed class JsonStoreFullDiskTests
{
    private const int Big = 8 * 1024;
    private const int Seeded = 20;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WritePaths_OnAFullDisk_FailTypedAndStoreEachOnceAfterSpaceIsFreed()
    {
        using var tmpfs = SmallTmpfs.MountOrSkip(4 * 1024 * 1024);
        var root = Path.Combine(tmpfs.Path, "store");
        var acknowledged = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        var report = new StringBuilder("Json on a full disk:\n");
        var store = Open(root);
        try
        {
            foreach (var id in new[] { "a", "b", "t", "u" })
            {
                acknowledged[id] = await SeedAsync(store, id);
            }

            // 190 of ids.idx's 256 slots: the next 5 messages grow it first.
            acknowledged["g"] = await SeedAsync(store, "g", 190);

            await ListedAsync(store);
            tmpfs.Fill();
            var outcomes = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["append"] = await TryAsync(() => store.AddMessageAsync(Message("a", "a-new", Big), Ct)),
                ["batch"] = await TryAsync(() => store.AddMessagesAsync("b", [.. Enumerable.Range(1, 4).Select(i => Message("b", $"b-new-{i}", Big))], Ct)),
                ["trim"] = await TryAsync(() => store.TrimMessagesAsync("t", 5, Ct)),
                ["create"] = await TryAsync(() => store.CreateSessionAsync("c", ["a"], new string('t', 4000), cancellationToken: Ct)),
                ["update"] = await TryAsync(async () => await store.UpdateSessionAsync((await store.GetSessionAsync("u", Ct))! with { Title = new string('u', 4000) }, Ct)),
                ["import"] = await TryAsync(() => store.ImportAsync(ImportItems("imp"), cancellationToken: Ct)),
                ["id-file growth"] = await TryAsync(() => store.AddMessagesAsync("g", [.. Enumerable.Range(1, 5).Select(i => Message("g", $"g-new-{i}"))], Ct)),
            };
            foreach (var (operation, outcome) in outcomes)
            {
                report.Append(FormattableString.Invariant($"  {operation}: {outcome}\n"));
            }

            outcomes.Values.Should().OnlyContain(o => o == nameof(StoreUnavailableException) || o == "done", report.ToString());

            // Still readable while the disk is full, and nothing half-visible: each session as before, or the write whole.
            await NothingHalfVisibleAsync(store, acknowledged);

            tmpfs.Free();
            await RetryAllAsync(store, acknowledged, "space freed, same instance");
            await store.DisposeAsync();
            store = Open(root);
            await RetryAllAsync(store, acknowledged, "space freed, reopened");
            (await store.CheckHealthAsync(Ct)).Status.Should().Be(StoreHealthStatus.Healthy);
        }
        finally
        {
            await store.DisposeAsync();
        }

        Integrity(root).Should().BeEmpty();
        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
    }

    [Fact]
    public async Task Open_OnAFullDisk_LosesNothingAlreadyStored()
    {
        using var tmpfs = SmallTmpfs.MountOrSkip(4 * 1024 * 1024);
        var root = Path.Combine(tmpfs.Path, "store");
        Dictionary<string, long> seeded;
        await using (var store = Open(root))
        {
            seeded = await SeedAsync(store, "s");
        }

        tmpfs.Fill();
        await using (var store = Open(root))
        {
            var all = await StoredMessages.ReadAllAsync(store, "s", Ct);
            all.ToDictionary(m => m.Id, m => m.Sequence).Should().Equal(seeded);
            (await ListedAsync(store))["s"].MessageCount.Should().Be(Seeded);
            var append = () => store.AddMessageAsync(Message("s", "s-new", Big), Ct);
            await append.Should().ThrowAsync<StoreUnavailableException>();
            (await StoredMessages.ReadAllAsync(store, "s", Ct)).Should().HaveCount(Seeded, "the failed append is not half-visible");
        }

        tmpfs.Free();
        await using (var store = Open(root))
        {
            await SessionAsync(store, "s", seeded, ["s-new"], Seeded, "space freed");
        }

        Integrity(root).Should().BeEmpty();
    }

    private static SessionPersistence Open(string root) => SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Json, StoragePath = root });

    private static async Task<Dictionary<string, long>> SeedAsync(SessionPersistence store, string id, int count = Seeded)
    {
        await store.CreateSessionAsync(id, ["a"], "t0", cancellationToken: Ct);
        var stored = await store.AddMessagesAsync(id, [.. Enumerable.Range(1, count).Select(i => Message(id, $"{id}-{i}"))], Ct);
        return stored.ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal);
    }

    private static async Task<string> TryAsync(Func<Task> write)
    {
        try
        {
            await write();
            return "done";
        }
        catch (SessionPersistenceException ex)
        {
            return ex.GetType().Name;
        }
    }

    private static async Task NothingHalfVisibleAsync(SessionPersistence store, Dictionary<string, Dictionary<string, long>> acknowledged)
    {
        foreach (var id in new[] { "a", "b", "u" })
        {
            var ids = (await StoredMessages.ReadAllAsync(store, id, Ct)).Select(m => m.Id).ToList();
            ids.Take(Seeded).Should().Equal(acknowledged[id].Keys, id);
            ids.Count.Should().BeOneOf([Seeded, id == "a" ? Seeded + 1 : id == "b" ? Seeded + 4 : Seeded], $"a write is whole or absent ({id})");
        }

        (await StoredMessages.ReadAllAsync(store, "t", Ct)).Count.Should().BeOneOf([5, Seeded], "a trim is whole or absent");
        (await StoredMessages.ReadAllAsync(store, "g", Ct)).Count.Should().BeOneOf([190, 195], "a batch is whole or absent");
        (await store.GetSessionAsync("u", Ct))!.Version.Should().BeOneOf([1, 2]);
        var listed = await ListedAsync(store);
        listed.ContainsKey("c").Should().Be(await store.GetSessionAsync("c", Ct) is not null);
        if (await store.GetSessionAsync("imp", Ct) is not null)
        {
            (await StoredMessages.ReadAllAsync(store, "imp", Ct)).Count.Should().BeOneOf([0, 3]);
        }
    }

    /// <summary>Each write again with the same ids, then the checks; idempotent, so it runs on the same instance and after reopening.</summary>
    private static async Task RetryAllAsync(SessionPersistence store, Dictionary<string, Dictionary<string, long>> acknowledged, string because)
    {
        acknowledged["a"] = await SessionAsync(store, "a", acknowledged["a"], ["a-new"], Seeded, because);
        acknowledged["b"] = await SessionAsync(store, "b", acknowledged["b"], [.. Enumerable.Range(1, 4).Select(i => $"b-new-{i}")], Seeded, because);

        // The trim to the latest 5 removes t-1..t-15, or did already.
        var trimmable = Enumerable.Range(1, Seeded - 5).Select(i => $"t-{i}").ToHashSet();
        var present = await StoredMessages.ReadAllAsync(store, "t", Ct);
        await store.TrimMessagesAsync("t", present.Count(m => !trimmable.Contains(m.Id)), Ct);
        acknowledged["t"] = acknowledged["t"].Where(m => !trimmable.Contains(m.Key)).ToDictionary();
        acknowledged["t"] = await SessionAsync(store, "t", acknowledged["t"], [], Seeded, because);

        if (await store.GetSessionAsync("c", Ct) is null)
        {
            await store.CreateSessionAsync("c", ["a"], new string('t', 4000), cancellationToken: Ct);
        }

        (await store.GetSessionAsync("c", Ct))!.Title.Should().HaveLength(4000, because);

        acknowledged["g"] = await SessionAsync(store, "g", acknowledged["g"], [.. Enumerable.Range(1, 5).Select(i => $"g-new-{i}")], 190, because);

        var update = (await store.GetSessionAsync("u", Ct))!;
        if (update.Version == 1)
        {
            update = await store.UpdateSessionAsync(update with { Title = new string('u', 4000) }, Ct);
        }

        update.Version.Should().Be(2, because);
        acknowledged["u"] = await SessionAsync(store, "u", acknowledged["u"], [], Seeded, because);

        await store.ImportAsync(ImportItems("imp"), replaceExisting: true, Ct);
        (await StoredMessages.ReadAllAsync(store, "imp", Ct)).Select(m => m.Sequence).Should().Equal([1L, 2, 3], because);
    }

    private static async IAsyncEnumerable<PortableItem> ImportItems(string sessionId)
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        yield return PortableItem.ForSession(new ChatSession { SessionId = sessionId, Participants = ["a"], CreatedAt = at, UpdatedAt = at, Version = 1 });
        for (var i = 1; i <= 3; i++)
        {
            yield return PortableItem.ForMessage(Message(sessionId, $"i-{i}", Big) with { Sequence = i, Timestamp = at });
        }

        await Task.CompletedTask;
    }
}
