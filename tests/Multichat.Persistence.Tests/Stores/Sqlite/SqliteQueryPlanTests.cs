using FluentAssertions;
using Microsoft.Data.Sqlite;
using Multichat.Persistence.Stores.Sqlite;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// The store's own statements, planned by SQLite on a database the store created: listing and paging walk indexes,
/// never a whole table (DESIGN §4.6: cost independent of history); the limit policies' lookups are seeks.
/// </summary>
public sealed class SqliteQueryPlanTests : IAsyncLifetime
{
    private readonly string _folder = SqliteTestFolder.Create();
    private SqliteConnection _connection = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await using (var store = SqliteSchemaTests.Open(_folder))
        {
            await store.CreateSessionAsync("s-1", ["Alice", "Bob"], cancellationToken: Ct);
            await store.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "Alice", Content = "x" }, Ct);
        }

        _connection = new SqliteConnection($"Data Source={Path.Combine(_folder, "sessions.db")};Pooling=False");
        _connection.Open();
    }

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, false, false)]
    [InlineData(true, true, true)]
    public void ListSessions_ByParticipant_SearchesTheParticipantIndex(bool cursor, bool updatedAfter, bool updatedBefore)
    {
        var plan = Plan(SqliteSql.SessionPage(participant: true, cursor, updatedAfter, updatedBefore));

        plan.Should().Contain(step => step.StartsWith("SEARCH p USING COVERING INDEX ix_session_participants_participant (participant=?)", StringComparison.Ordinal));
        plan.Should().NotContain(step => step.StartsWith("SCAN", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ListSessions_AllByRecency_WalksTheRecencyIndexWithoutSorting(bool cursor)
    {
        var plan = Plan(SqliteSql.SessionPage(participant: false, cursor, updatedAfter: false, updatedBefore: false));

        // session_activity is keyed by (updated_at, session_id): walking its key from the end is the recency order.
        plan[0].Should().BeOneOf("SCAN a", "SEARCH a USING PRIMARY KEY ((updated_at,session_id)<(?,?))");
        plan.Skip(1).Should().NotContain(step => step.StartsWith("SCAN", StringComparison.Ordinal));
        plan.Should().NotContain(step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
        plan.Should().Contain("SEARCH h USING INDEX sqlite_autoindex_messages_1 (session_id=? AND seq=?) LEFT-JOIN");
    }

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, false, false)]
    [InlineData(true, true, true)]
    [InlineData(false, true, false)]
    public void GetMessages_AnyPage_SearchesTheSessionSequenceKeyWithoutSorting(bool newestFirst, bool after, bool before)
    {
        var plan = Plan(SqliteSql.MessagePage(newestFirst, after, before));

        plan.Should().ContainSingle().Which.Should().StartWith("SEARCH messages USING INDEX sqlite_autoindex_messages_1 (session_id=?");
    }

    [Fact]
    public void Append_IdempotencyLookup_SearchesTheUniqueIdKey()
    {
        Plan(SqliteSql.SelectMessageById).Should().ContainSingle()
            .Which.Should().StartWith("SEARCH messages USING INDEX sqlite_autoindex_messages_2 (session_id=? AND id=?)");
    }

    [Fact]
    public void Append_NewMessageCountUnderReject_SearchesTheUniqueIdKey()
    {
        Plan(SqliteSql.MessageExists).Should().ContainSingle()
            .Which.Should().StartWith("SEARCH messages USING COVERING INDEX sqlite_autoindex_messages_2 (session_id=? AND id=?)");
    }

    [Fact]
    public void CreateSession_EvictionVictim_IsTheFirstActivityKeyWithoutSorting()
    {
        // LIMIT 1 on the key's own order: SQLite steps to the first entry of session_activity and stops.
        var plan = Plan(SqliteSql.SelectLeastRecentlyActive);

        plan.Should().Equal("SCAN session_activity");
    }

    public ValueTask DisposeAsync()
    {
        _connection.Dispose();
        SqliteTestFolder.Delete(_folder);
        return ValueTask.CompletedTask;
    }

    private List<string> Plan(SqliteStatement statement)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + statement.Text;
        foreach (var name in statement.Parameters)
        {
            command.Parameters.AddWithValue(name, DBNull.Value);
        }

        using var reader = command.ExecuteReader();
        var steps = new List<string>();
        while (reader.Read())
        {
            steps.Add(reader.GetString(3));
        }

        return steps;
    }
}
