using System.Buffers.Binary;
using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Internal;
using Multichat.Persistence.Stores.Json;
using Multichat.Persistence.Tests.Infrastructure;
using static Multichat.Persistence.Tests.Stores.Json.JsonFaultChecks;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// The limit policies on the Json store: evictions under the session count lock (the count file after each, a crash
/// between an eviction and its create, instances racing, an append racing on the victim, damaged records), and the
/// Reject check under the session's lock (across instances, after another instance trimmed, nothing written).
/// </summary>
public sealed class JsonStoreLimitPolicyTests : IDisposable
{
    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string CountPath => Path.Combine(_folder.Root, "sessions.count");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task CreateSession_AtMaxSessionsUnderEvict_KeepsTheCountFileAtTheLimit()
    {
        using var logs = new CapturingLoggerFactory();
        await using var store = SessionPersistence.Create(Evicting(3), logs);
        await CreateAsync(store, "a", "b", "c");

        await CreateAsync(store, "d", "e");

        ReadCount().Should().Be(3, "each eviction lowers the count the create then raises");
        (await ListedAsync(store)).Keys.Should().BeEquivalentTo(["c", "d", "e"]);
        logs.Events.Where(e => e.Id.Id == 607).Select(e => e.Message).Should().SatisfyRespectively(
            first => first.Should().Contain("session a,").And.Contain("session d under"),
            second => second.Should().Contain("session b,").And.Contain("session e under"));
    }

    // The expected count is the one on disk when the process dies there; a count too high only costs a recount.
    [Theory]
    [InlineData(1, 3, "the eviction's count write: the count is left one too high")]
    [InlineData(2, 2, "the reservation: the count is left right")]
    public async Task CreateSession_CrashBetweenEvictionAndCreate_LeavesTheVictimGoneTheNewOneAbsentAndTheLimitHeld(int countWrite, long expectedCountBeforeRecovery, string what)
    {
        var crash = new CrashAfterEviction(countWrite);
        var options = Evicting(3);
        options.FaultInjection = new FaultInjection(crash.Reach);
        await using (var store = SessionPersistence.Create(options))
        {
            await CreateAsync(store, "a", "b", "c");
            crash.Armed = true;

            var act = () => store.CreateSessionAsync("d", ["x"], cancellationToken: Ct);

            await act.Should().ThrowAsync<StoreUnavailableException>(what);
            crash.Fired.Should().BeTrue(what);
        }

        ReadCount().Should().Be(expectedCountBeforeRecovery, what);
        await using var reopened = SessionPersistence.Create(Evicting(3));
        await AbsentAsync(reopened, "a", $"the victim is gone ({what})");
        await AbsentAsync(reopened, "d", $"the new session was not created ({what})");
        (await ListedAsync(reopened)).Keys.Should().BeEquivalentTo(["b", "c"], what);

        await CreateAsync(reopened, "d");
        (await ListedAsync(reopened)).Keys.Should().BeEquivalentTo(["b", "c", "d"], $"the room the eviction made is used, nothing more evicted ({what})");
        await CreateAsync(reopened, "e");
        (await ListedAsync(reopened)).Keys.Should().BeEquivalentTo(["c", "d", "e"], what);
        ReadCount().Should().Be(3, what);
        Integrity(_folder.Root).Should().BeEmpty(what);
    }

    [Fact]
    public async Task CreateSession_FourInstancesRacingUnderEvict_AllSucceedAndExactlyTheLimitRemains()
    {
        const int Max = 10;
        using var logs = new CapturingLoggerFactory();
        var stores = Enumerable.Range(0, 4).Select(_ => SessionPersistence.Create(Evicting(Max), logs)).ToList();
        try
        {
            var created = await Task.WhenAll(stores.Select((store, i) => Task.Run(async () =>
            {
                var ids = new List<string>();
                for (var n = 0; n < 20; n++)
                {
                    ids.Add((await store.CreateSessionAsync($"w{i}-{n:00}", ["x"], cancellationToken: Ct)).SessionId);
                }

                return ids;
            }, Ct)));

            var listed = (await ListedAsync(stores[0])).Keys.ToList();
            listed.Should().HaveCount(Max);
            (await stores[1].GetStatisticsAsync(Ct)).SessionCount.Should().Be(Max);
            ReadCount().Should().Be(Max, "every eviction lowered the count and every create raised it, under one lock");
            var evicted = logs.Events.Where(e => e.Id.Id == 607).ToList();
            evicted.Should().HaveCount((4 * 20) - Max, "each create past the limit evicted exactly one session");
            created.SelectMany(ids => ids).Except(listed).Should().HaveCount((4 * 20) - Max);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task CreateSession_EvictingASessionAnotherInstanceAppendsTo_LeavesItGoneWholeAndStopsTheAppender()
    {
        // A still clock: every session ties on UpdatedAt, so the lowest id is the victim however many appends land on it.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var limitedOptions = Evicting(2);
        limitedOptions.TimeProvider = clock;
        var appenderOptions = _folder.Options();
        appenderOptions.TimeProvider = clock;
        await using var limited = SessionPersistence.Create(limitedOptions);
        await using var appender = SessionPersistence.Create(appenderOptions);
        await CreateAsync(limited, "a-target", "b-other");

        var acknowledged = new List<long>();
        var twenty = new TaskCompletionSource();
        var appends = Task.Run(async () =>
        {
            for (var i = 1; i < 100_000; i++)
            {
                try
                {
                    acknowledged.Add((await appender.AddMessageAsync(Message("a-target", $"m-{i}"), Ct)).Sequence);
                }
                catch (SessionNotFoundException)
                {
                    return "stopped by the eviction";
                }

                if (acknowledged.Count == 20)
                {
                    twenty.SetResult();
                }
            }

            return "never stopped";
        }, Ct);
        await twenty.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        await CreateAsync(limited, "c");

        (await appends.WaitAsync(TimeSpan.FromSeconds(60), Ct)).Should().Be("stopped by the eviction");
        acknowledged.Should().Equal(Enumerable.Range(1, acknowledged.Count).Select(i => (long)i), "the appends before the eviction were gapless");
        await AbsentAsync(limited, "a-target", "evicted");
        await AbsentAsync(appender, "a-target", "evicted, seen by the appending instance too");
        (await ListedAsync(appender)).Keys.Should().BeEquivalentTo(["b-other", "c"]);
        Integrity(_folder.Root).Should().BeEmpty();

        await CreateAsync(limited, "a-target");
        (await limited.GetMessagesAsync("a-target", 10, Ct)).Should().BeEmpty("a re-created session starts empty");
        (await appender.AddMessageAsync(Message("a-target", "m-1"), Ct)).Sequence.Should().Be(1);
    }

    [Fact]
    public async Task CreateSession_UnderEvictWhenOnlyDamagedRecordsAreStored_RefusesWithQuotaAndKeepsThem()
    {
        await using (var store = SessionPersistence.Create(Evicting(2)))
        {
            await CreateAsync(store, "a", "b");
        }

        foreach (var id in new[] { "a", "b" })
        {
            await File.WriteAllTextAsync(Path.Combine(_folder.FolderOf(id), "session.json"), "not json", Ct);
        }

        await using var reopened = SessionPersistence.Create(Evicting(2));
        var act = () => reopened.CreateSessionAsync("c", ["x"], cancellationToken: Ct);

        await act.Should().ThrowAsync<QuotaExceededException>("a damaged record counts, but is never listed, so never evicted");
        File.Exists(Path.Combine(_folder.FolderOf("a"), "session.json")).Should().BeTrue();
        File.Exists(Path.Combine(_folder.FolderOf("b"), "session.json")).Should().BeTrue();
        (await reopened.GetSessionAsync("c", Ct)).Should().BeNull();
    }

    [Fact]
    public async Task CreateSession_UnderEvictWithADamagedRecord_EvictsAListedSessionAndKeepsTheDamagedOne()
    {
        await using (var store = SessionPersistence.Create(Evicting(2)))
        {
            await CreateAsync(store, "a", "b");
        }

        await File.WriteAllTextAsync(Path.Combine(_folder.FolderOf("a"), "session.json"), "not json", Ct);
        await using var reopened = SessionPersistence.Create(Evicting(2));

        await CreateAsync(reopened, "c");

        File.Exists(Path.Combine(_folder.FolderOf("a"), "session.json")).Should().BeTrue("the damaged record is left for repair");
        (await reopened.GetSessionAsync("b", Ct)).Should().BeNull("the only listed session went");
        (await ListedAsync(reopened)).Keys.Should().BeEquivalentTo(["c"]);
        ReadCount().Should().Be(2, "the damaged record still counts");
    }

    [Fact]
    public async Task AddMessage_FourInstancesRacingUnderReject_StoreExactlyTheLimitGapless()
    {
        const int Max = 20;
        var stores = Enumerable.Range(0, 4).Select(_ => SessionPersistence.Create(Rejecting(Max))).ToList();
        try
        {
            await stores[0].CreateSessionAsync("s", ["x"], cancellationToken: Ct);
            var outcomes = await Task.WhenAll(stores.Select((store, i) => Task.Run(async () =>
            {
                var stored = 0;
                for (var n = 0; n < 15; n++)
                {
                    try
                    {
                        await store.AddMessageAsync(Message("s", $"w{i}-{n}"), Ct);
                        stored++;
                    }
                    catch (QuotaExceededException)
                    {
                    }
                }

                return stored;
            }, Ct)));

            outcomes.Sum().Should().Be(Max, "no two appenders passed the limit together");
            var all = await StoredMessages.ReadAllAsync(stores[3], "s", Ct);
            all.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, Max).Select(i => (long)i), "refused appends took no sequence");
            (await stores[2].GetSessionAsync("s", Ct))!.MessageCount.Should().Be(Max);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AddMessage_UnderRejectAfterAnotherInstanceTrimmed_SeesTheRoom()
    {
        await using var limited = SessionPersistence.Create(Rejecting(3));
        await using var other = SessionPersistence.Create(_folder.Options());
        await limited.CreateSessionAsync("s", ["x"], cancellationToken: Ct);
        await limited.AddMessagesAsync("s", [Message("s", "m-1"), Message("s", "m-2"), Message("s", "m-3")], Ct);
        var full = () => limited.AddMessageAsync(Message("s", "m-4"), Ct);
        await full.Should().ThrowAsync<QuotaExceededException>();

        await other.Store.TrimMessagesAsync("s", 1, Ct);

        (await limited.AddMessageAsync(Message("s", "m-4"), Ct)).Sequence.Should().Be(4);
        (await limited.AddMessageAsync(Message("s", "m-5"), Ct)).Sequence.Should().Be(5);
        var over = () => limited.AddMessageAsync(Message("s", "m-6"), Ct);
        await over.Should().ThrowAsync<QuotaExceededException>().WithMessage("*holds 3 messages; 1 more*");
        (await StoredMessages.ReadAllAsync(other, "s", Ct)).Select(m => m.Id).Should().Equal("m-3", "m-4", "m-5");
    }

    [Fact]
    public async Task AddMessages_RefusedUnderReject_LeavesTheSessionFilesAsTheyWere()
    {
        await using var limited = SessionPersistence.Create(Rejecting(2));
        await limited.CreateSessionAsync("s", ["x"], cancellationToken: Ct);
        await limited.AddMessagesAsync("s", [Message("s", "m-1"), Message("s", "m-2")], Ct);
        var messagesPath = _folder.MessagesOf("s");
        var recordPath = Path.Combine(_folder.FolderOf("s"), "session.json");
        var messages = await File.ReadAllBytesAsync(messagesPath, Ct);
        var record = await File.ReadAllBytesAsync(recordPath, Ct);

        var act = () => limited.AddMessagesAsync("s", [Message("s", "m-2"), Message("s", "m-3")], Ct);

        await act.Should().ThrowAsync<QuotaExceededException>();
        (await File.ReadAllBytesAsync(messagesPath, Ct)).Should().Equal(messages, "no line is written");
        (await File.ReadAllBytesAsync(recordPath, Ct)).Should().Equal(record, "the record is not rewritten");
        await limited.DisposeAsync();
        Integrity(_folder.Root).Should().BeEmpty();
        await using var reopened = SessionPersistence.Create(_folder.Options());
        (await reopened.AddMessageAsync(Message("s", "m-3"), Ct)).Sequence.Should().Be(3, "the refused batch took no sequence, also for another instance");
    }

    private SessionPersistenceOptions Evicting(int maxSessions)
    {
        var options = _folder.Options();
        options.MaxSessions = maxSessions;
        options.SessionLimitPolicy = SessionLimitPolicy.EvictLeastRecentlyActive;
        return options;
    }

    private SessionPersistenceOptions Rejecting(int maxMessages)
    {
        var options = _folder.Options();
        options.MaxMessagesPerSession = maxMessages;
        options.MessageLimitPolicy = MessageLimitPolicy.Reject;
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

    /// <summary>
    /// Fails the <c>countWrite</c>-th write of <c>sessions.count</c> after the victim's record is deleted: 1 is the
    /// eviction's own count write, 2 the create's reservation. An exception there leaves the files exactly as a kill at
    /// that moment would (the create's give-back runs only once the create itself started).
    /// </summary>
    private sealed class CrashAfterEviction(int countWrite)
    {
        private bool _victimGone;
        private int _countWrites;

        public bool Armed { get; set; }

        public bool Fired { get; private set; }

        public void Reach(string point)
        {
            if (!Armed || Fired)
            {
                return;
            }

            if (point == JsonFaultPoints.DeleteAfterRecord)
            {
                _victimGone = true;
            }
            else if (_victimGone && point == JsonFaultPoints.CountBeforeWrite && ++_countWrites == countWrite)
            {
                Fired = true;
                throw new IOException($"Injected crash before count write {countWrite} after the eviction.");
            }
        }
    }
}
