using FluentAssertions;
using Multichat.Persistence.Stores.Redis;
using Multichat.Persistence.Tests.Infrastructure;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// An injected failure (<see cref="InjectedIoFaults"/>) at every fault point of every write, run against a single node
/// and a cluster: for each operation its points are traced, then for each k a fresh session is written with the k-th
/// point failing. Afterwards, on the same store instance: the session's keys agree, the session count stays within
/// its leases, a retry with the same ids stores nothing twice, and the next append gets the next sequence. At the end
/// the leases left behind expire and the count is exact.
/// </summary>
internal sealed class RedisFaultPointScenarios(RedisFixture redis, string prefix) : IAsyncDisposable
{
    private readonly InjectedIoFaults _faults = new();
    private readonly RedisKeys _keys = new(prefix);
    private readonly Dictionary<string, int> _fired = new(StringComparer.Ordinal);
    private SessionPersistence? _store;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private SessionPersistence Store => _store ??= SessionPersistence.Create(new SessionPersistenceOptions
    {
        StorageType = StorageType.Redis,
        ConnectionString = redis.ConnectionString,
        RedisKeyPrefix = prefix,
        FaultInjection = _faults.Injection,
    });

    private IDatabase Db => redis.Admin.GetDatabase();

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        await redis.DeleteKeysAsync(prefix);
    }

    /// <summary>Runs every operation with a failure at each of its points; returns the points per operation.</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> EveryPointAsync()
    {
        var points = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var operation in Operations())
        {
            // A first, clean run learns the points this operation reaches (setup untraced).
            var traced = $"{operation.Name}-trace";
            await operation.Setup(Store, traced);
            _faults.Trace();
            await operation.Act(Store, traced);
            var reached = _faults.Reached;
            _faults.Trace();
            reached.Should().NotBeEmpty("{0} reaches fault points", operation.Name);
            points[operation.Name] = reached;

            for (var k = 1; k <= reached.Count; k++)
            {
                var session = $"{operation.Name}-{k}";
                await operation.Setup(Store, session);
                var before = await RedisStoreChecks.CheckSessionAsync(Store, Db, _keys, session, "before");
                _faults.FailAt(k);
                var act = () => operation.Act(Store, session);
                await act.Should().ThrowAsync<IOException>("the {0}-th point of {1} fails", k, operation.Name);
                var fired = _faults.Fired!;
                _faults.Trace();
                _fired[fired] = _fired.GetValueOrDefault(fired) + 1;
                var because = $"{operation.Name} failed at {fired}";

                await RedisStoreChecks.CheckSessionAsync(Store, Db, _keys, session, because);
                await RedisStoreChecks.CheckCountBoundsAsync(Db, _keys, because);

                // The same instance retries the same write: it completes, and nothing is stored twice.
                await operation.Retry(Store, session);
                var after = await RedisStoreChecks.CheckSessionAsync(Store, Db, _keys, session, because + ", then retried");
                await operation.Verify(Store, session, before, after, because);
                await RedisStoreChecks.CheckCountBoundsAsync(Db, _keys, because + ", then retried");
            }
        }

        await RedisStoreChecks.ExpireLeasesAndCheckExactCountAsync(redis.ConnectionString, prefix, Db, _keys);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{_fired.Values.Sum()} injected failures: {string.Join(", ", _fired.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key} {f.Value}"))}");
        return points;
    }

    private static ChatMessage Message(string sessionId, string id, long sequence = 0) => new()
    {
        Id = id,
        SessionId = sessionId,
        Sender = "a",
        Content = "content of " + id,
        Sequence = sequence,
    };

    private static async Task CreateWithAsync(SessionPersistence store, string session, int messages)
    {
        await store.CreateSessionAsync(session, ["a"], cancellationToken: Ct);
        if (messages > 0)
        {
            await store.AddMessagesAsync(session, Enumerable.Range(1, messages).Select(i => Message(session, $"m-{i}")).ToArray(), Ct);
        }
    }

    private static async Task<T?> TolerateAsync<T, TException>(Func<Task<T>> call)
        where TException : Exception
    {
        try
        {
            return await call();
        }
        catch (TException)
        {
            return default; // the failed attempt had applied the write: the retry is told so, and changes nothing
        }
    }

    private static async IAsyncEnumerable<PortableItem> ImportItems(string session)
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        yield return PortableItem.ForSession(new ChatSession
        {
            SessionId = session, Participants = ["a"], CreatedAt = at, UpdatedAt = at, MessageCount = 3, LastSequence = 3, Version = 1,
        });
        for (var i = 1; i <= 3; i++)
        {
            yield return PortableItem.ForMessage(Message(session, $"i-{i}", i) with { Timestamp = at.AddSeconds(i) });
        }

        await Task.CompletedTask;
    }

    private static async Task NextAppendAsync(SessionPersistence store, string session, List<ChatMessage>? after, string because)
    {
        var last = (await store.GetSessionAsync(session, Ct))!.LastSequence;
        var next = await store.AddMessageAsync(Message(session, "next"), Ct);
        next.Sequence.Should().Be(last + 1, "a sequence is never reused ({0})", because);
        next.Sequence.Should().BeGreaterThan(after is { Count: > 0 } ? after[^1].Sequence : 0, because);
    }

    // An evicting create runs at the limit: the store's session count when it starts (its retry keeps that limit).
    private static async Task CreateEvictingAsync(SessionPersistence store, string session, Dictionary<string, int> limits)
    {
        if (!limits.TryGetValue(session, out var limit))
        {
            limits[session] = limit = (int)(await store.GetStatisticsAsync(Ct)).SessionCount;
        }

        await store.Store.CreateSessionAsync(new ChatSession { SessionId = session, Participants = ["a"] }, SessionLimit.EvictLeastRecentlyActive(limit), Ct);
    }

    // The evicting create runs at the limit. On a cluster the session count errs high while leases of failed writes
    // are live, and an evicting create then refuses instead of evicting a real session for a phantom one (see
    // RedisSessionCommands.ReserveEvictingAsync), so the setup lets the leases of the earlier writes' failures expire
    // first, and a retry that its own failure's lease refuses does the same once (as the lease time passing would).
    private List<Operation> Operations()
    {
        var limits = new Dictionary<string, int>(StringComparer.Ordinal);
        var expireLeases = () => RedisStoreChecks.ExpireLeasesAndCheckExactCountAsync(redis.ConnectionString, prefix, Db, _keys);
        return BaseOperations().Append(new("evict",
            (_, _) => expireLeases(),
            (store, s) => CreateEvictingAsync(store, s, limits),
            (store, s) => TolerateAsync<bool, SessionAlreadyExistsException>(async () =>
            {
                try
                {
                    await CreateEvictingAsync(store, s, limits);
                }
                catch (QuotaExceededException)
                {
                    await expireLeases();
                    await CreateEvictingAsync(store, s, limits);
                }

                return true;
            }),
            async (store, s, before, after, because) =>
            {
                after.Should().NotBeNull(because);
                (await store.GetStatisticsAsync(Ct)).SessionCount.Should().BeLessThanOrEqualTo(limits[s], "an eviction made the room ({0})", because);
                await NextAppendAsync(store, s, after, because);
            })).ToList();
    }

    private static List<Operation> BaseOperations() =>
    [
        new("append",
            (store, s) => CreateWithAsync(store, s, 3),
            (store, s) => store.AddMessageAsync(Message(s, "m-new"), Ct),
            async (store, s) => (await store.AddMessageAsync(Message(s, "m-new"), Ct)).Sequence.Should().Be(4),
            async (store, s, before, after, because) =>
            {
                after!.Select(m => m.Id).Should().Equal(["m-1", "m-2", "m-3", "m-new"], because);
                await NextAppendAsync(store, s, after, because);
            }),
        new("batch",
            (store, s) => CreateWithAsync(store, s, 3),
            (store, s) => store.AddMessagesAsync(s, [Message(s, "b-1"), Message(s, "b-2"), Message(s, "b-3")], Ct),
            async (store, s) => (await store.AddMessagesAsync(s, [Message(s, "m-2"), Message(s, "b-1"), Message(s, "b-2"), Message(s, "b-3")], Ct))
                .Select(m => m.Sequence).Should().Equal(2L, 4L, 5L, 6L),
            async (store, s, before, after, because) =>
            {
                after!.Select(m => m.Id).Should().Equal(["m-1", "m-2", "m-3", "b-1", "b-2", "b-3"], because);
                await NextAppendAsync(store, s, after, because);
            }),
        new("trim",
            (store, s) => CreateWithAsync(store, s, 6),
            (store, s) => store.TrimMessagesAsync(s, 3, Ct),
            (store, s) => store.TrimMessagesAsync(s, 3, Ct),
            async (store, s, before, after, because) =>
            {
                after!.Select(m => m.Sequence).Should().Equal([4L, 5L, 6L], because);
                (await store.AddMessageAsync(Message(s, "m-5"), Ct)).Sequence.Should().Be(5, "a kept id still deduplicates ({0})", because);
                await NextAppendAsync(store, s, after, because);
            }),
        new("update",
            (store, s) => CreateWithAsync(store, s, 1),
            async (store, s) => await store.UpdateSessionAsync((await store.GetSessionAsync(s, Ct))! with { Title = "t" }, Ct),
            async (store, s) =>
            {
                var current = (await store.GetSessionAsync(s, Ct))!;
                if (current.Title != "t")
                {
                    await store.UpdateSessionAsync(current with { Title = "t" }, Ct);
                }
            },
            async (store, s, before, after, because) =>
            {
                var record = (await store.GetSessionAsync(s, Ct))!;
                record.Title.Should().Be("t", because);
                record.Version.Should().Be(2, "one update applied once ({0})", because);
                await NextAppendAsync(store, s, after, because);
            }),
        new("create",
            (_, _) => Task.CompletedTask,
            (store, s) => store.CreateSessionAsync(s, ["a"], cancellationToken: Ct),
            (store, s) => TolerateAsync<ChatSession, SessionAlreadyExistsException>(() => store.CreateSessionAsync(s, ["a"], cancellationToken: Ct)),
            async (store, s, before, after, because) =>
            {
                after.Should().NotBeNull(because);
                await NextAppendAsync(store, s, after, because);
            }),
        new("delete",
            (store, s) => CreateWithAsync(store, s, 2),
            (store, s) => store.DeleteSessionAsync(s, Ct),
            (store, s) => store.DeleteSessionAsync(s, Ct),
            async (store, s, before, after, because) =>
            {
                after.Should().BeNull(because);
                (await store.DeleteSessionAsync(s, Ct)).Should().BeFalse(because);
            }),
        new("import",
            (_, _) => Task.CompletedTask,
            (store, s) => store.ImportAsync(ImportItems(s), replaceExisting: true, cancellationToken: Ct),
            (store, s) => store.ImportAsync(ImportItems(s), replaceExisting: true, cancellationToken: Ct),
            async (store, s, before, after, because) =>
            {
                after!.Select(m => (m.Id, m.Sequence)).Should().Equal([("i-1", 1L), ("i-2", 2L), ("i-3", 3L)], because);
                (await store.AddMessageAsync(Message(s, "i-2"), Ct)).Sequence.Should().Be(2, "an imported id deduplicates ({0})", because);
                await NextAppendAsync(store, s, after, because);
            }),
    ];

    private sealed record Operation(
        string Name,
        Func<SessionPersistence, string, Task> Setup,
        Func<SessionPersistence, string, Task> Act,
        Func<SessionPersistence, string, Task> Retry,
        Func<SessionPersistence, string, List<ChatMessage>?, List<ChatMessage>?, string, Task> Verify);
}
