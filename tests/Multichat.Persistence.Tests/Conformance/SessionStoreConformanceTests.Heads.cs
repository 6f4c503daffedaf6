using FluentAssertions;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Pipeline;

namespace Multichat.Persistence.Tests.Conformance;

/// <summary>
/// The head every store reports for the read cache's per-read check (<see cref="ISessionHeadSource"/>): equal heads
/// must mean the same stored state, so every kind of write changes it, and a session's next life never repeats it.
/// </summary>
public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public virtual async Task Head_MissingSession_IsNull()
    {
        (await HeadAsync(Store, "missing")).Should().BeNull();
    }

    [Fact]
    public virtual async Task Head_AgreesWithTheSessionRecord_AndReadsDoNotChangeIt()
    {
        await NewSessionAsync("s-1");
        await AppendAsync("s-1", 3);

        var head = (await HeadAsync(Store, "s-1"))!.Value;
        await Store.GetMessagesAsync("s-1", 10, Ct);
        var record = (await Store.GetSessionAsync("s-1", Ct))!;

        head.Version.Should().Be(record.Version);
        head.LastSequence.Should().Be(record.LastSequence);
        head.MessageCount.Should().Be(record.MessageCount);
        (await HeadAsync(Store, "s-1")).Should().Be(head, "reading changes nothing");
    }

    [Fact]
    public virtual async Task Head_ChangesOnEveryKindOfWrite()
    {
        var seen = new List<SessionHead>();
        async Task ExpectNewHeadAsync(string because)
        {
            var head = (await HeadAsync(Store, "s-1"))!.Value;
            seen.Should().NotContain(head, because);
            seen.Add(head);
        }

        await NewSessionAsync("s-1");
        await ExpectNewHeadAsync("a created session has a head");
        await AppendAsync("s-1", 3);
        await ExpectNewHeadAsync("an append adds messages");
        var session = (await Store.GetSessionAsync("s-1", Ct))!;
        await Store.UpdateSessionAsync(session with { Title = "t" }, Ct);
        await ExpectNewHeadAsync("an update changes the record");
        await Store.TrimMessagesAsync("s-1", 1, Ct);
        await ExpectNewHeadAsync("a trim removes messages");
        var kept = (await Store.GetMessagesAsync("s-1", 1, Ct)).Single();
        await Store.AddMessageAsync(Message("s-1", kept.Id), Ct);
        (await HeadAsync(Store, "s-1")).Should().Be(seen[^1], "a retried id stores nothing");
    }

    [Fact]
    public virtual async Task Head_OfARecreatedSession_IsNeverTheOldOne()
    {
        await NewSessionAsync("s-1");
        await AppendAsync("s-1", 2);
        var first = (await HeadAsync(Store, "s-1"))!.Value;

        await Store.DeleteSessionAsync("s-1", Ct);
        (await HeadAsync(Store, "s-1")).Should().BeNull();
        await NewSessionAsync("s-1");
        await AppendAsync("s-1", 2, "other-");
        var second = (await HeadAsync(Store, "s-1"))!.Value;

        second.Should().NotBe(first, "the same counts and version in a new life must not pass for the old one");
        second.Epoch.Should().NotBe(first.Epoch);
    }

    [Fact]
    public virtual async Task Head_OfARestoredSession_HasANewEpoch()
    {
        await NewSessionAsync("s-1");
        await AppendAsync("s-1", 2);
        var archive = new MemoryStream();
        await Store.BackupAsync(archive, cancellationToken: Ct);
        var before = (await HeadAsync(Store, "s-1"))!.Value;

        await Store.RestoreAsync(new MemoryStream(archive.ToArray()), RestoreMode.Replace, cancellationToken: Ct);

        var after = (await HeadAsync(Store, "s-1"))!.Value;
        after.Epoch.Should().NotBe(before.Epoch, "a replacement is a new life, even with the same counts");
        (after.LastSequence, after.MessageCount).Should().Be((before.LastSequence, before.MessageCount));
    }

    [Fact]
    public virtual async Task Head_IsTheSameFromEveryInstance()
    {
        RequireSharedStorage();
        var other = await OpenAsync();
        await NewSessionAsync("s-1");
        await AppendAsync("s-1", 2);
        (await HeadAsync(other, "s-1")).Should().Be(await HeadAsync(Store, "s-1"));

        await other.AddMessageAsync(Message("s-1", "from-other"), Ct);

        (await HeadAsync(Store, "s-1")).Should().Be(await HeadAsync(other, "s-1"), "a completed write is in every instance's next head");
        (await HeadAsync(Store, "s-1"))!.Value.LastSequence.Should().Be(3);
    }

    private static Task<SessionHead?> HeadAsync(SessionPersistence store, string sessionId)
    {
        var source = SessionStorePipeline.Unwrap(store.Store) as ISessionHeadSource;
        source.Should().NotBeNull($"every store reports heads for the read cache ({SessionStorePipeline.Unwrap(store.Store).GetType().Name} does not)");
        return source!.GetHeadAsync(sessionId, Ct);
    }
}
