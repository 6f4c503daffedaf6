using FluentAssertions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Multichat.Persistence.Stores.Sqlite;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// Schema v3 keeps a session's activity in <c>session_activity</c> and derives its counters from the newest message,
/// so appends never rewrite the session row. Every write must keep exactly one activity row per session, equal to the
/// session's <see cref="ChatSession.UpdatedAt"/>; these tests drive every kind of write, in random order, with a clock
/// that also steps backwards, and check that after each one.
/// </summary>
public sealed class SqliteActivityTests : IAsyncLifetime
{
    private static readonly string[] Ids = ["a", "b", "c", "d"];

    private readonly string _folder = SqliteTestFolder.Create();
    private readonly ManualClock _clock = new();
    private SqliteStore _store = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => Path.Combine(_folder, SqliteStore.FileName);

    public ValueTask InitializeAsync()
    {
        _store = new SqliteStore(new SqliteStoreOptions($"Data Source={DatabasePath}", Durability.Normal, TimeSpan.FromSeconds(30), _clock), NullLogger.Instance);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        SqliteTestFolder.Delete(_folder);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task EveryWrite_KeepsOneActivityRowPerSessionEqualToItsUpdatedAt(int seed)
    {
        var random = new Random(seed);
        var next = 0;
        for (var step = 0; step < 300; step++)
        {
            // Mostly forward, sometimes backwards (another process's clock, an NTP step).
            _clock.Step(TimeSpan.FromMilliseconds(random.Next(-3, 10)));
            var id = Ids[random.Next(Ids.Length)];
            var exists = await _store.GetSessionAsync(id, Ct) is not null;
            switch (exists ? random.Next(8) : 0)
            {
                case 0 when !exists:
                    await _store.CreateSessionAsync(new ChatSession { SessionId = id, Participants = ["p", id] }, SessionLimit.None, Ct);
                    break;
                case 0:
                case 1:
                    await _store.AppendMessagesAsync(id, Batch(id, ref next, random.Next(1, 4)), random.Next(2) == 0 ? MessageLimit.None : MessageLimit.TrimOldest(5), Ct);
                    break;
                case 2:
                    // A retry: one stored id and one new.
                    var stored = await _store.GetMessagesAsync(id, new MessageQuery { Limit = 1 }, Ct);
                    ChatMessage[] retry = stored.Messages.Count == 0
                        ? Batch(id, ref next, 1)
                        : [stored.Messages[0] with { Sequence = 0 }, .. Batch(id, ref next, 1)];
                    await _store.AppendMessagesAsync(id, retry, MessageLimit.None, Ct);
                    break;
                case 3:
                    var session = (await _store.GetSessionAsync(id, Ct))!;
                    await _store.UpdateSessionAsync(session with { Title = "t" + step }, Ct);
                    break;
                case 4:
                    await _store.TrimMessagesAsync(id, random.Next(3), Ct);
                    break;
                case 5:
                    var last = (await _store.GetSessionAsync(id, Ct))!.LastSequence;
                    await _store.ImportMessagesAsync(id, [Message(id, $"imp-{next++}") with { Sequence = last + 1 + random.Next(2), Timestamp = _clock.GetUtcNow() }], Ct);
                    break;
                case 6:
                    await _store.ImportSessionAsync(
                        new ChatSession { SessionId = id, Participants = ["p"], CreatedAt = _clock.GetUtcNow(), UpdatedAt = _clock.GetUtcNow().AddMinutes(-random.Next(5)), LastSequence = 7 },
                        replaceExisting: true, Ct);
                    break;
                default:
                    await _store.DeleteSessionAsync(id, Ct);
                    break;
            }

            await ShouldBeConsistentAsync();
        }
    }

    [Fact]
    public async Task Append_LeavesTheSessionRowAlone_AndStillReportsCountSequenceAndActivity()
    {
        await _store.CreateSessionAsync(new ChatSession { SessionId = "a", Participants = ["p"] }, SessionLimit.None, Ct);
        var created = RowOf("a");
        _clock.Step(TimeSpan.FromSeconds(1));
        var next = 0;

        await _store.AppendMessagesAsync("a", Batch("a", ref next, 3), MessageLimit.None, Ct);

        RowOf("a").Should().Be(created, "an append writes the message rows and the activity row, not the session row");
        var session = (await _store.GetSessionAsync("a", Ct))!;
        (session.LastSequence, session.MessageCount, session.UpdatedAt).Should().Be((3L, 3L, _clock.GetUtcNow()));
        await ShouldBeConsistentAsync();
    }

    [Fact]
    public async Task MissingActivityRow_IsRepairedByTheNextWrite()
    {
        await _store.CreateSessionAsync(new ChatSession { SessionId = "a", Participants = ["p"] }, SessionLimit.None, Ct);
        Execute("DELETE FROM session_activity");
        _clock.Step(TimeSpan.FromSeconds(1));
        var next = 0;

        await _store.AppendMessagesAsync("a", Batch("a", ref next, 1), MessageLimit.None, Ct);

        await ShouldBeConsistentAsync();
    }

    private async Task ShouldBeConsistentAsync()
    {
        var expected = new List<(long Ticks, string Id)>();
        foreach (var id in Ids)
        {
            if (await _store.GetSessionAsync(id, Ct) is { } session)
            {
                expected.Add((session.UpdatedAt.UtcTicks, id));
                var messages = await _store.GetMessagesAsync(id, new MessageQuery { Limit = 1000, Order = MessageOrder.OldestFirst }, Ct);
                session.MessageCount.Should().Be(messages.Messages.Count, "the derived count of {0} matches its rows", id);
                session.LastSequence.Should().BeGreaterThanOrEqualTo(messages.Messages.Count == 0 ? 0 : messages.Messages[^1].Sequence);
            }
        }

        ActivityRows().Should().BeEquivalentTo(expected, "session_activity holds exactly each session's UpdatedAt");

        var listed = new List<string>();
        var query = new SessionQuery { Limit = 2 };
        while (true)
        {
            var page = await _store.ListSessionsAsync(query, Ct);
            listed.AddRange(page.Sessions.Select(s => s.SessionId));
            if (page.ContinuationToken is null)
            {
                break;
            }

            query = query with { ContinuationToken = page.ContinuationToken };
        }

        listed.Should().Equal(expected.OrderByDescending(e => e.Ticks).ThenByDescending(e => e.Id, StringComparer.Ordinal).Select(e => e.Id));
    }

    private static ChatMessage[] Batch(string sessionId, ref int next, int count)
    {
        var batch = new ChatMessage[count];
        for (var i = 0; i < count; i++)
        {
            batch[i] = Message(sessionId, $"m-{next++}");
        }

        return batch;
    }

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "p", Content = "x" };

    private List<(long Ticks, string Id)> ActivityRows()
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT updated_at, session_id FROM session_activity";
        using var reader = command.ExecuteReader();
        var rows = new List<(long, string)>();
        while (reader.Read())
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1)));
        }

        return rows;
    }

    private string RowOf(string sessionId)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT updated_at || '/' || last_seq || '/' || message_count || '/' || version FROM sessions WHERE session_id = $sid";
        command.Parameters.AddWithValue("$sid", sessionId);
        return (string)command.ExecuteScalar()!;
    }

    private void Execute(string sql)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        return connection;
    }

    /// <summary>A clock the test sets, also backwards (FakeTimeProvider refuses that).</summary>
    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

        public void Step(TimeSpan by) => _now += by;

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
