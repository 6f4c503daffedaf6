using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;
using static Multichat.Persistence.Tests.Stores.Json.JsonFaultChecks;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// The write paths <see cref="JsonStoreInjectedFaultTests"/> fails at every fault point: for each, how the store is
/// brought to where the operation starts, the operation, and what its caller checks and retries afterwards (on the
/// same instance, then again after reopening, so every check is idempotent).
/// </summary>
internal static class JsonFaultScenarios
{
    private const string S = "s";
    private const string Old = "old";

    public static readonly Dictionary<string, Scenario> All = new[]
    {
        new Scenario("append", Setup: r => SeedAsync(r, 10), Act: r => AppendAsync(r, "m-11"), Verify: VerifyAppendAsync),
        new Scenario("batch", Setup: r => SeedAsync(r, 10), Act: r => AppendAsync(r, "b-1", "b-2", "b-3", "b-4"), Verify: VerifyAppendAsync),

        // 190 slots of a 256-slot table: 5 more pass the 75 % load, so the append first grows ids.idx.
        new Scenario("id-file growth", Setup: r => SeedAsync(r, 190), Act: r => AppendAsync(r, "g-1", "g-2", "g-3", "g-4", "g-5"), Verify: VerifyAppendAsync),
        new Scenario("trim", Setup: r => SeedAsync(r, 10), Act: TrimAsync, Verify: VerifyTrimAsync),

        // MaxMessagesPerSession 10: the append writes its line, then trims the oldest by a record write (no compaction).
        new Scenario("append over MaxMessagesPerSession", Setup: r => SeedAsync(r, 10), Act: r => AppendAsync(r, "m-11"), Verify: VerifyBoundedAsync) { MaxMessages = 10 },
        new Scenario("update", Setup: r => SeedAsync(r, 3), Act: UpdateAsync, Verify: VerifyUpdateAsync),
        new Scenario("mark read", Setup: SeedMarkedAsync, Act: MarkAsync, Verify: VerifyMarkAsync),
        new Scenario("delete", Setup: r => SeedAsync(r, 5), Act: DeleteAsync, Verify: VerifyDeleteAsync) { MaxSessions = 3, LimitCheck = 3 },
        new Scenario("import", Setup: r => SeedAsync(r, 3), Act: r => ImportAsync(r, "imp", replace: false), Verify: VerifyImportAsync),
        new Scenario("import replacing", Setup: r => SeedAsync(r, 10), Act: r => ImportAsync(r, S, replace: true), Verify: VerifyImportAsync),
        new Scenario("create under MaxSessions", Setup: r => SeedAsync(r, 3), Act: CreateAsync, Verify: VerifyCreateAsync) { MaxSessions = 3, LimitCheck = 3 },

        // MaxSessions 2 under EvictLeastRecentlyActive: the create deletes "old" (the ordinary delete's points), lowers the
        // count, then reserves and creates.
        new Scenario("create evicting under MaxSessions", Setup: SeedWithAnOlderSessionAsync, Act: CreateAsync, Verify: VerifyEvictingCreateAsync)
        {
            MaxSessions = 2, SessionPolicy = SessionLimitPolicy.EvictLeastRecentlyActive, LimitCheck = 2,
        },
        new Scenario("create without a limit", Setup: SeedCountedAsync, Act: CreateAsync, Verify: VerifyCreateAsync) { LimitCheck = 3 },
        new Scenario("checkpoint", Setup: r => SeedAsync(r, 10), Act: DisposeAsync, Verify: VerifyAppendAsync) { Checkpoints = true },
        new Scenario("torn tail set aside", Setup: TornTailAsync, Act: r => AppendAsync(r, "m-11"), Verify: VerifyAppendAsync),
        new Scenario("lost log", Setup: LostLogAsync, Act: r => AppendAsync(r, "m-11"), Verify: VerifyAppendAsync) { Degraded = true },
    }.ToDictionary(s => s.Name, StringComparer.Ordinal);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task SeedAsync(FaultRun run, int count)
    {
        await run.Store.CreateSessionAsync(S, ["a", "b"], "t0", cancellationToken: Ct);
        foreach (var chunk in Enumerable.Range(1, count).Chunk(50))
        {
            foreach (var stored in await run.Store.AddMessagesAsync(S, [.. chunk.Select(i => Message(S, $"m-{i}"))], Ct))
            {
                run.Acknowledged[stored.Id] = stored.Sequence;
            }
        }

        run.Highest = count;
    }

    /// <summary>The session is created by an instance that keeps the session count; the instance under test keeps none.</summary>
    private static async Task SeedCountedAsync(FaultRun run)
    {
        var options = run.Folder.Options();
        options.MaxSessions = 3;
        await using var counted = SessionPersistence.Create(options);
        await counted.CreateSessionAsync(S, ["a", "b"], "t0", cancellationToken: Ct);
    }

    /// <summary>"old", with two messages, and then the seeded session: "old" is the least recently active.</summary>
    private static async Task SeedWithAnOlderSessionAsync(FaultRun run)
    {
        await run.Store.CreateSessionAsync(Old, ["a"], cancellationToken: Ct);
        await run.Store.AddMessagesAsync(Old, [Message(Old, "o-1"), Message(Old, "o-2")], Ct);
        await SeedAsync(run, 10);
    }

    /// <summary>A writer that died mid-line left half a line at the end of the log; the next append sets it aside.</summary>
    private static async Task TornTailAsync(FaultRun run)
    {
        await SeedAsync(run, 10);
        await run.ReopenAsync();
        await File.AppendAllTextAsync(run.Folder.MessagesOf(S), "{\"seq\":11,\"id\":\"m-11\",\"sen", Ct);
    }

    /// <summary>messages.jsonl is gone (deleted by hand); the next append records that 1..10 stay issued before it writes.</summary>
    private static async Task LostLogAsync(FaultRun run)
    {
        await SeedAsync(run, 10);
        await run.ReopenAsync();
        File.Delete(run.Folder.MessagesOf(S));
        run.Acknowledged.Clear();
    }

    private static async Task AppendAsync(FaultRun run, params string[] ids)
    {
        run.InFlight.AddRange(ids);
        var stored = ids.Length == 1
            ? [await run.Store.AddMessageAsync(Message(S, ids[0]), Ct)]
            : await run.Store.AddMessagesAsync(S, [.. ids.Select(id => Message(S, id))], Ct);
        Acknowledge(run, stored);
    }

    private static async Task VerifyAppendAsync(FaultRun run, string because)
    {
        if (run.InFlight.Count > 0 && run.Outcome is null)
        {
            var present = (await StoredMessages.ReadAllAsync(run.Store, S, Ct)).Select(m => m.Id).ToHashSet();
            var kept = run.InFlight.Count(present.Contains);
            run.Outcome = kept == 0 ? "in-flight write not stored" : FormattableString.Invariant($"{kept} of {run.InFlight.Count} in-flight messages stored");
        }

        var stored = await SessionAsync(run.Store, S, run.Acknowledged, run.InFlight, run.Highest, because);
        Acknowledge(run, stored);
    }

    /// <summary>
    /// Under MaxMessagesPerSession the session holds the latest of everything acknowledged (a suffix, at most one over
    /// the limit while a failed append's trim is pending); a retry of the in-flight id and one more append keep exactly
    /// the latest 10, with new sequences above every one issued. <see cref="FaultRun.Acknowledged"/> keeps the history.
    /// </summary>
    private static async Task VerifyBoundedAsync(FaultRun run, string because)
    {
        var before = await StoredMessages.ReadAllAsync(run.Store, S, Ct);
        var inFlightStored = run.InFlight.Where(id => before.Any(m => m.Id == id)).ToList();
        run.Outcome ??= inFlightStored.Count == 0 ? "in-flight write not stored" : before.Count > 10 ? "stored, oldest not trimmed yet" : "stored and trimmed";
        var history = run.Acknowledged.OrderBy(a => a.Value).Select(a => a.Key).Concat(inFlightStored).ToList();
        before.Count.Should().BeLessThanOrEqualTo(11, because);
        before.Select(m => m.Id).Should().Equal(history.Skip(history.Count - before.Count), $"the latest messages, none lost in between ({because})");
        foreach (var message in before.Where(m => run.Acknowledged.ContainsKey(m.Id)))
        {
            message.Sequence.Should().Be(run.Acknowledged[message.Id], because);
        }

        foreach (var id in run.InFlight)
        {
            var again = await run.Store.AddMessageAsync(Message(S, id), Ct);
            var original = before.FirstOrDefault(m => m.Id == id);
            if (original is null)
            {
                again.Sequence.Should().BeGreaterThan(run.Highest, because);
            }
            else
            {
                again.Sequence.Should().Be(original.Sequence, because);
            }

            run.Acknowledged[id] = again.Sequence;
            run.Highest = Math.Max(run.Highest, again.Sequence);
        }

        run.InFlight.Clear();
        var probe = await run.Store.AddMessageAsync(Message(S, $"probe-{Guid.NewGuid():N}"), Ct);
        probe.Sequence.Should().BeGreaterThan(run.Highest, $"a sequence is never reused ({because})");
        run.Acknowledged[probe.Id] = probe.Sequence;
        run.Highest = probe.Sequence;
        var after = await StoredMessages.ReadAllAsync(run.Store, S, Ct);
        after.Select(m => m.Id).Should().Equal(run.Acknowledged.OrderBy(a => a.Value).Select(a => a.Key).TakeLast(10), $"exactly the latest 10 ({because})");
        var session = (await run.Store.GetSessionAsync(S, Ct))!;
        session.MessageCount.Should().Be(10, because);
        (await ListedAsync(run.Store))[S].MessageCount.Should().Be(10, $"the listing agrees ({because})");
    }

    private static async Task TrimAsync(FaultRun run)
    {
        run.Trimmable.UnionWith(run.Acknowledged.Where(a => a.Value <= 6).Select(a => a.Key));
        await run.Store.TrimMessagesAsync(S, 4, Ct);
        run.Acknowledged.Keys.Where(run.Trimmable.Contains).ToList().ForEach(id => run.Acknowledged.Remove(id));
    }

    private static async Task VerifyTrimAsync(FaultRun run, string because)
    {
        // A trim is one record write: the oldest are all gone or all there, and trimming them again removes exactly them.
        var before = await StoredMessages.ReadAllAsync(run.Store, S, Ct);
        var trimmable = before.Count(m => run.Trimmable.Contains(m.Id));
        trimmable.Should().BeOneOf([0, run.Trimmable.Count], $"a trim removes all of the oldest or none ({because})");
        run.Outcome ??= trimmable == 0 ? "trimmed" : "not trimmed";
        foreach (var id in run.Trimmable)
        {
            run.Acknowledged.Remove(id);
        }

        (await run.Store.TrimMessagesAsync(S, before.Count - trimmable, Ct)).Should().Be(trimmable, because);
        await VerifyAppendAsync(run, because);
    }

    private static async Task UpdateAsync(FaultRun run)
    {
        var session = (await run.Store.GetSessionAsync(S, Ct))!;
        run.Version = session.Version;
        await run.Store.UpdateSessionAsync(session with { Title = "t1" }, Ct);
    }

    private static async Task VerifyUpdateAsync(FaultRun run, string because)
    {
        var session = (await run.Store.GetSessionAsync(S, Ct))!;
        if (session.Title == "t0")
        {
            session.Version.Should().Be(run.Version, because);
            run.Outcome ??= "not updated";
            session = await run.Store.UpdateSessionAsync(session with { Title = "t1" }, Ct);
        }
        else
        {
            run.Outcome ??= "updated";
        }

        session.Title.Should().Be("t1", because);
        session.Version.Should().Be(run.Version + 1, $"one update, one version ({because})");
        (await run.Store.GetSessionAsync(S, Ct))!.Version.Should().Be(run.Version + 1, because);
        (await ListedAsync(run.Store))[S].Title.Should().Be("t1", $"the listing shows the update ({because})");
        await VerifyAppendAsync(run, because);
    }

    private static Task DisposeAsync(FaultRun run)
    {
        run.MarkDisposed();
        return run.Store.DisposeAsync().AsTask();
    }

    private static async Task SeedMarkedAsync(FaultRun run)
    {
        await SeedAsync(run, 10);
        await run.Store.MarkReadAsync(S, "b", 3, Ct);
    }

    private static async Task MarkAsync(FaultRun run) => await run.Store.MarkReadAsync(S, "b", 7, Ct);

    /// <summary>The cursor is the old mark or the new one, never anything else; the messages are untouched; marking again lands.</summary>
    private static async Task VerifyMarkAsync(FaultRun run, string because)
    {
        var cursor = (await run.Store.GetReadStateAsync(S, "b", Ct)).LastReadSequence;
        cursor.Should().BeOneOf([3L, 7L], because);
        run.Outcome ??= cursor == 7 ? "marked" : "not marked";
        await VerifyAppendAsync(run, because);
        (await run.Store.MarkReadAsync(S, "b", 7, Ct)).LastReadSequence.Should().Be(7, because);
        (await run.Store.MarkReadAsync(S, "b", 5, Ct)).LastReadSequence.Should().Be(7, $"a cursor never moves backwards ({because})");
    }

    private static async Task DeleteAsync(FaultRun run) => await run.Store.DeleteSessionAsync(S, Ct);

    private static async Task VerifyDeleteAsync(FaultRun run, string because)
    {
        if (await run.Store.GetSessionAsync(S, Ct) is not null)
        {
            run.Outcome ??= "not deleted";
            await VerifyAppendAsync(run, because);
            (await run.Store.DeleteSessionAsync(S, Ct)).Should().BeTrue(because);
        }
        else
        {
            run.Outcome ??= "deleted";
        }

        (await run.Store.DeleteSessionAsync(S, Ct)).Should().BeFalse(because);
        await AbsentAsync(run.Store, S, because);

        // Created again, the session starts empty: nothing the half-finished delete left behind comes back.
        await run.Store.CreateSessionAsync(S, ["a"], cancellationToken: Ct);
        await SessionAsync(run.Store, S, new Dictionary<string, long>(), [], 0, $"{because}, created again");
        (await run.Store.DeleteSessionAsync(S, Ct)).Should().BeTrue(because);
        run.Acknowledged.Clear();
        run.Highest = 0;
    }

    private static async Task ImportAsync(FaultRun run, string sessionId, bool replace)
    {
        run.Imported = sessionId;
        await run.Store.ImportAsync(ImportItems(sessionId), replace, Ct);
    }

    private static async Task VerifyImportAsync(FaultRun run, string because)
    {
        var id = run.Imported!;
        var session = await run.Store.GetSessionAsync(id, Ct);
        var messages = session is null ? [] : await StoredMessages.ReadAllAsync(run.Store, id, Ct);
        (await ListedAsync(run.Store)).ContainsKey(id).Should().Be(session is not null, $"the listing shows the session exactly when it exists ({because})");
        if (session is null)
        {
            run.Outcome ??= "absent";
            await AbsentAsync(run.Store, id, because);
        }
        else if (session.Title == "imported")
        {
            // The record comes first, then its messages in one write: none or all of them (and the probes of earlier checks).
            messages.Count(m => m.Id.StartsWith("i-", StringComparison.Ordinal)).Should().BeOneOf([0, 5], because);
            messages.Where(m => !m.Id.StartsWith("probe-", StringComparison.Ordinal)).Should().HaveCount(messages.Count(m => m.Id.StartsWith("i-", StringComparison.Ordinal)), because);
            run.Outcome ??= $"imported record with {messages.Count} messages";
        }
        else
        {
            // Not replaced at all: the old session whole.
            run.Outcome ??= "old session whole";
            await SessionAsync(run.Store, id, run.Acknowledged, [], run.Highest, $"{because}, before the import's retry");
        }

        await run.Store.ImportAsync(ImportItems(id), replaceExisting: true, Ct);
        var imported = await StoredMessages.ReadAllAsync(run.Store, id, Ct);
        imported.Select(m => (m.Id, m.Sequence)).Should().Equal(Enumerable.Range(1, 5).Select(i => ($"i-{i}", (long)i)), because);
        await SessionAsync(run.Store, id, imported.ToDictionary(m => m.Id, m => m.Sequence), [], 5, $"{because}, imported again");
        if (id != S)
        {
            await VerifyAppendAsync(run, $"{because}, the other session");
        }
    }

    private static async Task CreateAsync(FaultRun run)
    {
        await run.Store.CreateSessionAsync("c", ["a"], "created", cancellationToken: Ct);
    }

    private static async Task VerifyCreateAsync(FaultRun run, string because)
    {
        var exists = await run.Store.GetSessionAsync("c", Ct) is not null;
        (await ListedAsync(run.Store)).ContainsKey("c").Should().Be(exists, $"the listing shows the session exactly when it exists ({because})");
        run.Outcome ??= exists ? "created" : "not created";
        var retry = () => run.Store.CreateSessionAsync("c", ["a"], "created", cancellationToken: Ct);
        if (exists)
        {
            await retry.Should().ThrowAsync<SessionAlreadyExistsException>(because);
        }
        else
        {
            await retry();
        }

        // Kept, so that the session count checked next must count it.
        (await ListedAsync(run.Store)).Should().ContainKey("c", because);
        var created = await StoredMessages.ReadAllAsync(run.Store, "c", Ct);
        await SessionAsync(run.Store, "c", created.ToDictionary(m => m.Id, m => m.Sequence), [], 0, because);
        await VerifyAppendAsync(run, $"{because}, the other session");
    }

    /// <summary>
    /// An eviction never comes after its create: "c" exists only with "old" gone. "old" is gone or whole (its two
    /// messages, read without writing, so it stays the least recently active); the retried create evicts it if the failed
    /// one did not, and the store then holds exactly "s" and "c".
    /// </summary>
    private static async Task VerifyEvictingCreateAsync(FaultRun run, string because)
    {
        var created = await run.Store.GetSessionAsync("c", Ct) is not null;
        var old = await run.Store.GetSessionAsync(Old, Ct) is not null;
        (created && old).Should().BeFalse($"the victim goes before the create ({because})");
        if (old)
        {
            (await StoredMessages.ReadAllAsync(run.Store, Old, Ct)).Select(m => (m.Id, m.Sequence)).Should().Equal([("o-1", 1L), ("o-2", 2L)], $"not evicted: whole ({because})");
        }
        else
        {
            await AbsentAsync(run.Store, Old, because);
        }

        run.Outcome ??= created ? "evicted and created" : old ? "nothing evicted, not created" : "evicted, not created";
        var retry = () => run.Store.CreateSessionAsync("c", ["a"], "created", cancellationToken: Ct);
        if (created)
        {
            await retry.Should().ThrowAsync<SessionAlreadyExistsException>(because);
        }
        else
        {
            await retry();
        }

        await AbsentAsync(run.Store, Old, $"evicted by now ({because})");
        (await ListedAsync(run.Store)).Keys.Should().BeEquivalentTo([S, "c"], because);

        // The probes of the same instance's check are there after reopening.
        var probes = await StoredMessages.ReadAllAsync(run.Store, "c", Ct);
        await SessionAsync(run.Store, "c", probes.ToDictionary(m => m.Id, m => m.Sequence), [], 0, because);
        await VerifyAppendAsync(run, $"{because}, the other session");
    }

    private static void Acknowledge(FaultRun run, IEnumerable<ChatMessage> stored) =>
        Acknowledge(run, stored.ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal));

    private static void Acknowledge(FaultRun run, Dictionary<string, long> stored)
    {
        foreach (var (id, sequence) in stored)
        {
            run.Acknowledged[id] = sequence;
            run.Highest = Math.Max(run.Highest, sequence);
        }

        run.InFlight.Clear();
    }

    private static async IAsyncEnumerable<PortableItem> ImportItems(string sessionId)
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        yield return PortableItem.ForSession(new ChatSession
        {
            SessionId = sessionId, Participants = ["a"], Title = "imported", CreatedAt = at, UpdatedAt = at, MessageCount = 5, LastSequence = 5, Version = 1,
        });
        for (var i = 1; i <= 5; i++)
        {
            yield return PortableItem.ForMessage(Message(sessionId, $"i-{i}") with { Sequence = i, Timestamp = at.AddSeconds(i) });
        }

        await Task.CompletedTask;
    }

    /// <param name="Name">The write path.</param>
    /// <param name="Setup">Brings the store to where the operation starts (faults not armed yet).</param>
    /// <param name="Act">The operation under test.</param>
    /// <param name="Verify">The checks and the caller's retry, run on the same instance and again after reopening.</param>
    public sealed record Scenario(string Name, Func<FaultRun, Task> Setup, Func<FaultRun, Task> Act, Func<FaultRun, string, Task> Verify)
    {
        public int MaxSessions { get; init; }

        /// <summary>What a create at <see cref="MaxSessions"/> does.</summary>
        public SessionLimitPolicy SessionPolicy { get; init; }

        public int MaxMessages { get; init; }

        /// <summary>At the end, a store with this MaxSessions must let in exactly that many sessions.</summary>
        public int LimitCheck { get; init; }

        /// <summary>Counts the checkpoint points (the operation is a dispose, so nothing else checkpoints meanwhile).</summary>
        public bool Checkpoints { get; init; }

        /// <summary>The setup damaged the store on purpose (health may say Degraded: it counts what this instance saw).</summary>
        public bool Degraded { get; init; }
    }

    /// <summary>One run of a scenario: the store under test and what its caller was told.</summary>
    public sealed class FaultRun(JsonTestFolder folder, Func<SessionPersistence> open)
    {
        private SessionPersistence _store = open();

        public JsonTestFolder Folder { get; } = folder;

        public SessionPersistence Store
        {
            get => _store;
            set
            {
                _store = value;
                Disposed = false;
            }
        }

        /// <summary>Whether the operation under test disposed the store (the checkpoint scenario).</summary>
        public bool Disposed { get; private set; }

        public Dictionary<string, long> Acknowledged { get; } = new(StringComparer.Ordinal);

        public List<string> InFlight { get; } = [];

        public HashSet<string> Trimmable { get; } = new(StringComparer.Ordinal);

        public long Highest { get; set; }

        public long Version { get; set; }

        public string? Imported { get; set; }

        /// <summary>What the failed operation left, as the first check saw it.</summary>
        public string? Outcome { get; set; }

        public async Task ReopenAsync()
        {
            await _store.DisposeAsync();
            Store = open();
        }

        public void MarkDisposed() => Disposed = true;
    }
}
