using FluentAssertions;
using Microsoft.Data.Sqlite;
using Multichat.Persistence.Feed;
using Multichat.Persistence.Pipeline;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// The Sqlite store's read cursors beyond the conformance suite: every path that ends a session's life (an import
/// replacing it, a restore, an eviction) takes its cursors with it, and a refused mark writes no row.
/// </summary>
public sealed class SqliteReadCursorTests : IDisposable
{
    private readonly string _folder = SqliteTestFolder.Create();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ImportSession_ReplacingTheSession_RemovesItsCursors()
    {
        await using var persistence = Open();
        var session = await MarkedSessionAsync(persistence);

        await persistence.Store.ImportSessionAsync(session, replaceExisting: true, Ct);

        (await Cursors(persistence).GetReadCursorsAsync("s-1", Ct)).Should().BeEmpty();
        RowCount().Should().Be(0);
    }

    [Fact]
    public async Task RestoreAsync_ReplacingTheSession_ReplacesItsCursorsWithTheArchives()
    {
        await using var persistence = Open();
        await MarkedSessionAsync(persistence);
        var archive = Path.Combine(_folder, "backup.mcbak");
        await persistence.BackupAsync(archive, Ct);
        await persistence.MarkReadAsync("s-1", "Agent-2", 3, Ct);
        await persistence.MarkReadAsync("s-1", "Agent-3", 3, Ct);

        await persistence.RestoreAsync(archive, RestoreMode.Replace, cancellationToken: Ct);

        (await persistence.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 2, 1, 3));
        RowCount().Should().Be(1, "the old life's rows went with it; the archive's one came back");
    }

    [Fact]
    public async Task CreateSession_EvictingTheMarkedSession_RemovesItsCursors()
    {
        await using var persistence = Open(o => (o.MaxSessions, o.SessionLimitPolicy) = (1, SessionLimitPolicy.EvictLeastRecentlyActive));
        await MarkedSessionAsync(persistence);

        await persistence.CreateSessionAsync("s-2", ["Agent-1"], cancellationToken: Ct);

        RowCount().Should().Be(0);
        await persistence.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"], cancellationToken: Ct);
        (await Cursors(persistence).GetReadCursorsAsync("s-1", Ct)).Should().BeEmpty();
    }

    [Fact]
    public async Task MarkRead_BeyondTheLastSequence_WritesNoRow()
    {
        await using var persistence = Open();
        await persistence.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"], cancellationToken: Ct);

        var mark = () => persistence.MarkReadAsync("s-1", "Agent-2", 1, Ct);

        await mark.Should().ThrowAsync<ArgumentOutOfRangeException>();
        RowCount().Should().Be(0);
    }

    [Fact]
    public async Task MarkRead_ASequenceAnotherInstanceJustAppended_IsAccepted()
    {
        await using var persistence = Open();
        await using var other = Open();
        await persistence.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"], cancellationToken: Ct);
        (await persistence.GetSessionAsync("s-1", Ct))!.LastSequence.Should().Be(0);

        var appended = await other.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "Agent-1", Content = "hi" }, Ct);

        (await persistence.MarkReadAsync("s-1", "Agent-2", appended.Sequence, Ct)).Should().Be(new ReadState("s-1", "Agent-2", 1, 0, null));
    }

    public void Dispose() => SqliteTestFolder.Delete(_folder);

    private static IReadCursorStore Cursors(SessionPersistence persistence) => (IReadCursorStore)SessionStorePipeline.Unwrap(persistence.Store);

    /// <summary>A session "s-1" of three messages by Agent-1, marked read to 2 by Agent-2; returns the session.</summary>
    private static async Task<ChatSession> MarkedSessionAsync(SessionPersistence persistence)
    {
        await persistence.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"], cancellationToken: Ct);
        for (var i = 1; i <= 3; i++)
        {
            await persistence.AddMessageAsync(new ChatMessage { Id = $"m-{i}", SessionId = "s-1", Sender = "Agent-1", Content = $"{i}" }, Ct);
        }

        await persistence.MarkReadAsync("s-1", "Agent-2", 2, Ct);
        (await Cursors(persistence).GetReadCursorsAsync("s-1", Ct)).Should().Equal(new Dictionary<string, long> { ["Agent-2"] = 2 });
        return (await persistence.GetSessionAsync("s-1", Ct))!;
    }

    /// <summary>How many rows <c>read_cursors</c> holds, read by a connection of its own.</summary>
    private long RowCount()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_folder, "sessions.db"), Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM read_cursors";
        return (long)command.ExecuteScalar()!;
    }

    private SessionPersistence Open(Action<SessionPersistenceOptions>? configure = null)
    {
        var options = new SessionPersistenceOptions { StorageType = StorageType.Sqlite, StoragePath = _folder };
        configure?.Invoke(options);
        return SessionPersistence.Create(options);
    }
}
