using FluentAssertions;
using Multichat.Persistence.Stores.Sqlite;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// SQLite's I/O-error tests, done on the store's own C# steps: for each message write (append, batch, a batch with
/// stored ids, an append that trims to the limit, trim, import of a new and of a replaced session) a first run traces
/// the fault points it reaches; then, for every k, a fresh file gets the same write with the k-th point throwing an
/// <see cref="IOException"/>. The caller must see <see cref="StoreUnavailableException"/>; the write must be rolled
/// back whole, or (at an after-commit point) be there whole; and the SAME instance must keep working: a retry with the
/// same ids stores each once, a re-send of every stored id stores nothing, a new append gets the next sequence, the
/// file passes integrity_check and its derived rows agree, and all of it reads the same after reopening.
/// </summary>
public sealed class SqliteStoreInjectedFaultTests(ITestOutputHelper output)
{
    private const string Main = "s";
    private const string Other = "other";

    private static readonly (string Id, long Sequence)[] Seeded = [("m1", 1), ("m2", 2), ("m3", 3), ("m4", 4), ("m5", 5)];
    private static readonly (string Id, long Sequence)[] OtherRows = [("o1", 1), ("o2", 2)];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Writes =>
        ["append", "batch", "batch-with-stored-ids", "append-over-limit", "batch-with-stored-ids-under-reject", "trim", "import-new", "import-replace"];

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task MessageWrite_IoErrorAtEachFaultPoint_IsAllOrNothingAndTheSameInstanceKeepsWorking(string write)
    {
        var scenario = Scenario.For(write);
        var points = await RunAsync(scenario, failAt: 0);
        points.Should().NotBeEmpty();
        var outcomes = new Dictionary<string, int>();
        for (var k = 1; k <= points.Count; k++)
        {
            var reached = await RunAsync(scenario, failAt: k);
            reached.Take(k).Should().Equal(points.Take(k), "the write reaches the same points in the same order each time");
            var outcome = scenario.StateAfterFault(points[k - 1]);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        output.WriteLine($"{write}: {points.Count} points [{string.Join(", ", points)}]; outcomes {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))}");
    }

    [Fact]
    public async Task AppendMessages_RefusedUnderRejectWithAnIoErrorAtEachFaultPoint_StoresNothingAndTheSameInstanceStillRefuses()
    {
        IReadOnlyList<string>? points = null;
        for (var k = 0; points is null || k <= points.Count; k++)
        {
            var folder = SqliteTestFolder.Create();
            try
            {
                var faults = new InjectedIoFaults();
                await using (var store = SqliteFaultChecks.Open(folder, faults, maxMessagesPerSession: 6, messageLimitPolicy: MessageLimitPolicy.Reject))
                {
                    await store.CreateSessionAsync(Main, ["a", "b"], cancellationToken: Ct);
                    await store.AddMessagesAsync(Main, Seeded.Select(m => Message(Main, m.Id)), Ct);

                    // m4 is stored, n1 and n2 are new: 5 + 2 > 6.
                    var refused = () => store.AddMessagesAsync(Main, Messages("m4", "n1", "n2"), Ct);
                    if (k == 0)
                    {
                        faults.Trace();
                        await refused.Should().ThrowAsync<QuotaExceededException>();
                        points = faults.Reached;
                        points.Should().Equal([SqliteFaultPoints.AppendBeforeBegin, SqliteFaultPoints.WriteBeforeRollback], "the refusal is one transaction that inserts nothing");
                        continue;
                    }

                    faults.FailAt(k);
                    var thrown = (await refused.Should().ThrowAsync<SessionPersistenceException>()).Which;
                    var fired = faults.Fired!;
                    var because = $"the refused append failed at point {k} ({fired})";
                    if (thrown is StoreUnavailableException)
                    {
                        thrown.InnerException.Should().BeOfType<IOException>(because);
                    }
                    else
                    {
                        // Only the rollback of the refusing transaction, which wrote nothing: its failure is not what
                        // the caller needs to hear, and the next write discards the transaction.
                        thrown.Should().BeOfType<QuotaExceededException>(because);
                        fired.Should().Be(SqliteFaultPoints.WriteBeforeRollback, because);
                        k.Should().Be(points!.Count, $"{because}: only the last point is the refusing transaction's rollback");
                    }

                    await SqliteFaultChecks.SessionShouldHoldAsync(store, Main, Seeded, 5, because);
                    SqliteFaultChecks.FileShouldBeConsistent(folder);
                    await refused.Should().ThrowAsync<QuotaExceededException>(because);
                    (await store.AddMessageAsync(Message(Main, "n1"), Ct)).Sequence.Should().Be(6, $"{because}: the refusals took no sequence");
                    await refused.Should().ThrowAsync<QuotaExceededException>($"{because}: n2 is still one too many");
                    (await store.AddMessagesAsync(Main, Messages("n1", "m4"), Ct)).Select(m => (m.Id, m.Sequence)).Should().Equal([("n1", 6L), ("m4", 4L)], because);
                }

                SqliteFaultChecks.FileShouldBeConsistent(folder);
                await using var reopened = SqliteFaultChecks.Open(folder);
                await SqliteFaultChecks.SessionShouldHoldAsync(reopened, Main, [.. Seeded, ("n1", 6)], 6, "after reopening");
            }
            finally
            {
                SqliteTestFolder.Delete(folder);
            }
        }

        output.WriteLine($"refused append: {points!.Count} points [{string.Join(", ", points)}]");
    }

    /// <summary>Seeds a fresh file, runs the write (failing its k-th point when k &gt; 0), checks everything; returns the points reached.</summary>
    private static async Task<IReadOnlyList<string>> RunAsync(Scenario scenario, int failAt)
    {
        var folder = SqliteTestFolder.Create();
        try
        {
            var faults = new InjectedIoFaults();
            await using (var store = SqliteFaultChecks.Open(folder, faults, maxMessagesPerSession: scenario.MaxMessages, messageLimitPolicy: scenario.Policy))
            {
                await store.CreateSessionAsync(Main, ["a", "b"], cancellationToken: Ct);
                await store.AddMessagesAsync(Main, Seeded.Select(m => Message(Main, m.Id)), Ct);
                await store.CreateSessionAsync(Other, ["a"], cancellationToken: Ct);
                await store.AddMessagesAsync(Other, OtherRows.Select(m => Message(Other, m.Id)), Ct);

                if (failAt == 0)
                {
                    faults.Trace();
                    await scenario.Act(store);
                    var traced = faults.Reached;
                    await scenario.ShouldHoldAsync(store, "after", "the traced write");
                    return traced;
                }

                faults.FailAt(failAt);
                var act = () => scenario.Act(store);
                (await act.Should().ThrowAsync<StoreUnavailableException>()).WithInnerException<IOException>();
                var fired = faults.Fired!;
                var because = $"the write failed at point {failAt} ({fired})";
                await scenario.ShouldHoldAsync(store, scenario.StateAfterFault(fired), because);
                await SqliteFaultChecks.SessionShouldHoldAsync(store, Other, OtherRows, 2, because);
                SqliteFaultChecks.FileShouldBeConsistent(folder);

                // The same instance: the retry completes the write once, whatever part of it had committed.
                var reached = faults.Reached;
                await scenario.Retry(store, fired);
                await scenario.ShouldHoldAsync(store, "after", $"{because}, then retried");

                // Every stored id again: each one's original comes back, nothing is stored twice.
                var stored = scenario.Expected("after");
                if (stored.Length > 0)
                {
                    var again = await store.AddMessagesAsync(scenario.Session, stored.Select(m => Message(scenario.Session, m.Id)), Ct);
                    again.Select(m => (m.Id, m.Sequence)).Should().Equal(stored, because);
                }

                var fresh = await store.AddMessageAsync(Message(scenario.Session, "fresh"), Ct);
                fresh.Sequence.Should().Be(scenario.LastSequence("after") + 1, $"{because}: a sequence is never reused");
                SqliteFaultChecks.FileShouldBeConsistent(folder);
                await using var reopened = SqliteFaultChecks.Open(folder);
                (string Id, long Sequence)[] withFresh = [.. stored, (fresh.Id, fresh.Sequence)];
                await SqliteFaultChecks.SessionShouldHoldAsync(
                    reopened, scenario.Session, [.. withFresh.TakeLast(scenario.MaxMessages ?? withFresh.Length)], fresh.Sequence, $"{because}, after reopening");
                await SqliteFaultChecks.SessionShouldHoldAsync(reopened, Other, OtherRows, 2, $"{because}, after reopening");
                return reached;
            }
        }
        finally
        {
            SqliteTestFolder.Delete(folder);
        }
    }

    private static List<ChatMessage> Messages(params string[] ids) => [.. ids.Select(id => Message(Main, id))];

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "a", Content = $"content of {id}" };

    private static async IAsyncEnumerable<PortableItem> ImportItems(string sessionId)
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        yield return PortableItem.ForSession(new ChatSession
        {
            SessionId = sessionId, Participants = ["a", "c"], CreatedAt = at, UpdatedAt = at, MessageCount = 3, LastSequence = 3, Version = 1,
        });
        for (var i = 1; i <= 3; i++)
        {
            yield return PortableItem.ForMessage(Message(sessionId, $"i{i}") with { Sequence = i, Timestamp = at.AddSeconds(i) });
        }

        await Task.CompletedTask;
    }

    /// <summary>One write and the states its session may be in: "before" it, "after" it, and for an import "mid" (the session committed, its messages not).</summary>
    private sealed record Scenario(
        string Session,
        int? MaxMessages,
        Func<SessionPersistence, Task> Act,
        Func<SessionPersistence, string, Task> Retry,
        Func<string, string> StateAfterFault,
        IReadOnlyDictionary<string, ((string Id, long Sequence)[] Rows, long LastSequence)?> States)
    {
        /// <summary>What an append beyond <see cref="MaxMessages"/> does.</summary>
        public MessageLimitPolicy Policy { get; init; } = MessageLimitPolicy.TrimOldest;

        public (string Id, long Sequence)[] Expected(string state) => States[state]?.Rows ?? [];

        public long LastSequence(string state) => States[state]?.LastSequence ?? 0;

        public async Task ShouldHoldAsync(SessionPersistence store, string state, string because)
        {
            if (States[state] is { } expected)
            {
                await SqliteFaultChecks.SessionShouldHoldAsync(store, Session, expected.Rows, expected.LastSequence, $"{because}: {state}");
            }
            else
            {
                (await store.GetSessionAsync(Session, Ct)).Should().BeNull($"{because}: {state}");
            }
        }

        public static Scenario For(string write)
        {
            (string, long)[] seeded = [.. Seeded];
            switch (write)
            {
                case "append":
                    return Single(None, s => s.AddMessageAsync(Message(Main, "n1"), Ct), (seeded, 5), ([.. seeded, ("n1", 6)], 6));
                case "batch":
                    return Single(
                        None, s => s.AddMessagesAsync(Main, Messages("n1", "n2", "n3", "n4"), Ct),
                        (seeded, 5), ([.. seeded, ("n1", 6), ("n2", 7), ("n3", 8), ("n4", 9)], 9));
                case "batch-with-stored-ids":
                    return Single(
                        None, s => s.AddMessagesAsync(Main, Messages("n1", "m4", "m5"), Ct),
                        (seeded, 5), ([.. seeded, ("n1", 6)], 6));
                case "append-over-limit":
                    return Single(
                        5, s => s.AddMessagesAsync(Main, Messages("n1", "n2"), Ct),
                        (seeded, 5), ([("m3", 3), ("m4", 4), ("m5", 5), ("n1", 6), ("n2", 7)], 7));
                case "batch-with-stored-ids-under-reject":
                    // Too many were all of it new (5 + 3 > 7), so the append counts what is new (one) before it inserts.
                    return Single(
                        7, s => s.AddMessagesAsync(Main, Messages("n1", "m4", "m5"), Ct),
                        (seeded, 5), ([.. seeded, ("n1", 6)], 6)) with { Policy = MessageLimitPolicy.Reject };
                case "trim":
                    return Single(None, s => s.TrimMessagesAsync(Main, 2, Ct), (seeded, 5), ([("m4", 4), ("m5", 5)], 5));
                case "import-new":
                    return Import("imp", null);
                case "import-replace":
                    return Import(Main, (seeded, 5));
                default:
                    throw new ArgumentOutOfRangeException(nameof(write), write, "unknown write");
            }
        }

        private static int? None => null;

        /// <summary>A write of one transaction (or two, when the append falls back to its id lookups): it committed only when it failed after its commit.</summary>
        private static Scenario Single(
            int? maxMessages, Func<SessionPersistence, Task> act, ((string, long)[], long) before, ((string, long)[], long) after) => new(
            Main,
            maxMessages,
            act,
            (store, _) => act(store),
            fired => SqliteFaultChecks.AfterCommit(fired) ? "after" : "before",
            new Dictionary<string, ((string, long)[], long)?> { ["before"] = before, ["after"] = after });

        /// <summary>An import: the session's transaction, then one for its messages (one chunk here).</summary>
        private static Scenario Import(string sessionId, ((string, long)[], long)? before) => new(
            sessionId,
            null,
            s => s.ImportAsync(ImportItems(sessionId), replaceExisting: before is not null, Ct),

            // Once the session committed, only a replacing import can complete it (as a restore would).
            (s, _) => s.ImportAsync(ImportItems(sessionId), replaceExisting: true, Ct),
            fired => fired switch
            {
                "sqlite.import-messages.after-commit" => "after",
                "sqlite.import-session.after-commit" => "mid",
                _ when fired.StartsWith("sqlite.import-messages.", StringComparison.Ordinal) => "mid",
                _ => "before",
            },
            new Dictionary<string, ((string, long)[], long)?>
            {
                ["before"] = before,
                ["mid"] = ([], 3),
                ["after"] = ([("i1", 1), ("i2", 2), ("i3", 3)], 3),
            });
    }
}
