using FluentAssertions;
using Multichat.Persistence.Backup;

namespace Multichat.Persistence.Tests.Conformance;

/// <summary>
/// Read cursors and unread counts: cursors only move forward, a participant's own message reads what came before it,
/// trimmed messages count as read, and the counts are always what a recount of the stored messages gives.
/// </summary>
public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public virtual async Task ReadState_OfAParticipantThatReadNothing_CountsEveryOtherMessage()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 5);

        (await Store.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 0, 5, 1));
        (await Store.GetReadStateAsync("s-1", "Agent-1", Ct)).Should().Be(new ReadState("s-1", "Agent-1", 5, 0, null), "its own messages are read");
    }

    [Fact]
    public virtual async Task MarkRead_MovesTheCursorForwardOnly()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 6);

        (await Store.MarkReadAsync("s-1", "Agent-2", 4, Ct)).Should().Be(new ReadState("s-1", "Agent-2", 4, 2, 5));
        (await Store.MarkReadAsync("s-1", "Agent-2", 2, Ct)).LastReadSequence.Should().Be(4, "a cursor never moves backwards");
        (await Store.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 4, 2, 5));
        (await Store.MarkReadAsync("s-1", "Agent-2", 6, Ct)).Should().Be(new ReadState("s-1", "Agent-2", 6, 0, null));
    }

    [Fact]
    public virtual async Task SendingAMessage_ReadsEverythingBeforeIt()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 3);
        await Store.AddMessageAsync(Message("s-1", "reply", sender: "Agent-2"), Ct);
        await AppendAsync("s-1", 2, "after-");

        (await Store.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 4, 2, 5));
        (await Store.MarkReadAsync("s-1", "Agent-2", 1, Ct)).LastReadSequence.Should().Be(4);
    }

    [Fact]
    public virtual async Task TrimmedMessages_CountAsRead_AndNoCursorMovesBackwards()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 4);
        await Store.AddMessageAsync(Message("s-1", "reply", sender: "Agent-2"), Ct);
        await AppendAsync("s-1", 5, "after-");
        (await Store.GetReadStateAsync("s-1", "Agent-2", Ct)).LastReadSequence.Should().Be(5);

        await Store.TrimMessagesAsync("s-1", 3, Ct);

        (await Store.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 7, 3, 8));
        (await Store.GetReadStateAsync("s-1", "Agent-3", Ct)).Should().Be(new ReadState("s-1", "Agent-3", 7, 3, 8));
        await Store.TrimMessagesAsync("s-1", 0, Ct);
        (await Store.GetReadStateAsync("s-1", "Agent-3", Ct)).Should().Be(new ReadState("s-1", "Agent-3", 10, 0, null));
    }

    [Fact]
    public virtual async Task MarkRead_BadArguments_ChangeNothing()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 3);

        var beyond = () => Store.MarkReadAsync("s-1", "Agent-2", 4, Ct);
        var negative = () => Store.MarkReadAsync("s-1", "Agent-2", -1, Ct);
        var badParticipant = () => Store.MarkReadAsync("s-1", "", 1, Ct);
        var missing = () => Store.MarkReadAsync("missing", "Agent-2", 0, Ct);

        await beyond.Should().ThrowAsync<ArgumentOutOfRangeException>();
        await negative.Should().ThrowAsync<ArgumentOutOfRangeException>();
        await badParticipant.Should().ThrowAsync<ArgumentException>();
        await missing.Should().ThrowAsync<SessionNotFoundException>();
        (await Store.GetReadStateAsync("s-1", "Agent-2", Ct)).LastReadSequence.Should().Be(0);
        var state = () => Store.GetReadStateAsync("missing", "Agent-2", Ct);
        await state.Should().ThrowAsync<SessionNotFoundException>();
    }

    [Fact]
    public virtual async Task ReadCursors_AreGoneInTheSessionsNextLife()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 3);
        await Store.MarkReadAsync("s-1", "Agent-2", 3, Ct);

        await Store.DeleteSessionAsync("s-1", Ct);
        await NewSessionAsync();
        await AppendAsync("s-1", 2);

        (await Store.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 0, 2, 1));
    }

    [Fact]
    public virtual async Task ReadCursors_AreSharedByInstances()
    {
        RequireSharedStorage();
        await NewSessionAsync();
        await AppendAsync("s-1", 3);
        var second = await OpenAsync();

        await second.MarkReadAsync("s-1", "Agent-2", 2, Ct);

        (await Store.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 2, 1, 3));
    }

    [Fact]
    public virtual async Task UnreadCounts_UnderConcurrentAppendsAndMarks_EqualARecount()
    {
        await NewSessionAsync("s-1", "Agent-1", "Agent-2", "Agent-3");
        var participants = new[] { "Agent-1", "Agent-2", "Agent-3" };
        var work = participants.Select(async (participant, index) =>
        {
            var random = new Random(index);
            for (var i = 0; i < 30; i++)
            {
                if (random.Next(3) == 0)
                {
                    var last = (await Store.GetSessionAsync("s-1", Ct))!.LastSequence;
                    await Store.MarkReadAsync("s-1", participant, random.NextInt64(0, last + 1), Ct);
                }
                else
                {
                    await Store.AddMessageAsync(Message("s-1", $"{participant}-{i}", sender: participant), Ct);
                }
            }
        });
        await Task.WhenAll(work);

        var stored = await ReadAllAsync(Store, "s-1");
        foreach (var participant in participants)
        {
            var state = await Store.GetReadStateAsync("s-1", participant, Ct);
            var ownLatest = stored.Where(m => m.Sender == participant).Select(m => m.Sequence).DefaultIfEmpty(0).Max();
            state.LastReadSequence.Should().BeGreaterThanOrEqualTo(ownLatest);
            var unread = stored.Where(m => m.Sequence > state.LastReadSequence).ToList();
            unread.Should().NotContain(m => m.Sender == participant);
            state.UnreadCount.Should().Be(unread.Count, participant);
            state.FirstUnreadSequence.Should().Be(unread.Count == 0 ? null : unread[0].Sequence);
        }
    }

    [Fact]
    public virtual async Task BackupAndRestore_CarryReadCursors()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 5);
        await Store.MarkReadAsync("s-1", "Agent-2", 3, Ct);
        await Store.MarkReadAsync("s-1", "Observer", 5, Ct);
        var archive = new MemoryStream();
        await Store.BackupAsync(archive, Ct);

        await Store.DeleteSessionAsync("s-1", Ct);
        await Store.RestoreAsync(new MemoryStream(archive.ToArray()), RestoreMode.Fail, cancellationToken: Ct);
        (await Store.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 3, 2, 4));
        (await Store.GetReadStateAsync("s-1", "Observer", Ct)).Should().Be(new ReadState("s-1", "Observer", 5, 0, null));

        // Replace: the archive's cursors, not the ones marked since.
        await Store.MarkReadAsync("s-1", "Agent-2", 5, Ct);
        await Store.RestoreAsync(new MemoryStream(archive.ToArray()), RestoreMode.Replace, cancellationToken: Ct);
        (await Store.GetReadStateAsync("s-1", "Agent-2", Ct)).LastReadSequence.Should().Be(3);
    }

    [Fact]
    public virtual async Task ExportAndImport_CarryReadCursors()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 4);
        await Store.MarkReadAsync("s-1", "Agent-2", 2, Ct);
        await using var target = OpenOtherMemoryStore();

        await target.ImportAsync(Store.ExportAsync(Ct), cancellationToken: Ct);

        (await target.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 2, 2, 3));
        var items = Store.ExportAsync(Ct).Select(i => i.Session is null ? i : i with { ReadCursors = new Dictionary<string, long> { ["Agent-2"] = 99 } });
        await using var other = OpenOtherMemoryStore();
        var bad = () => other.ImportAsync(items, cancellationToken: Ct);
        await bad.Should().ThrowAsync<ArgumentException>().WithMessage("*read cursor*");
    }

    [Fact]
    public virtual async Task GuardedReplacement_AsReencryptionMakesIt_ContinuesTheLife_CursorsAndEpochKept()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 4);
        await Store.MarkReadAsync("s-1", "Agent-2", 3, Ct);
        var session = (await Store.GetSessionAsync("s-1", Ct))!;
        var messages = await ReadAllAsync(Store, "s-1");

        await using var feed = Store.WatchMessagesAsync("s-1", afterSequence: 4, Ct).GetAsyncEnumerator(Ct);
        var next = feed.MoveNextAsync().AsTask();
        var head = await HeadAsync(Store, "s-1");

        await ((Multichat.Persistence.Pipeline.DelegatingSessionStore)Store.Store).ReplaceSessionAsync(session, OneBatch(messages), ReplacementExpectation.Of(session), Ct);

        (await Store.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 3, 1, 4));
        (await HeadAsync(Store, "s-1")).Should().Be(head, "the same life goes on: a cache and a watcher have nothing to redo");
        await Store.AddMessageAsync(Message("s-1", "after"), Ct);
        (await next.WaitAsync(FeedPatience, Ct)).Should().BeTrue("the watch goes on across the re-encryption, no gap reported");
        feed.Current.Id.Should().Be("after");
    }

    private static async IAsyncEnumerable<IReadOnlyList<ChatMessage>> OneBatch(IReadOnlyList<ChatMessage> messages)
    {
        await Task.Yield();
        yield return messages;
    }
}
