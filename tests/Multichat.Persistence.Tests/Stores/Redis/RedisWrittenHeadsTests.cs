using FluentAssertions;
using Multichat.Persistence.Stores.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The read-your-own-writes check of ReadFrom = PreferReplica, case by case; no server needed.</summary>
public sealed class RedisWrittenHeadsTests
{
    private static readonly DateTimeOffset Created = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly RedisWrittenHeads _heads = new();

    [Fact]
    public void Accepts_SessionThisInstanceNeverWrote_TakesAnyAnswer()
    {
        _heads.Accepts("s-1", null).Should().BeTrue();
        _heads.Accepts("s-1", Replica(lastSequence: 3)).Should().BeTrue();
        _heads.NeedsPrimary("s-1").Should().BeFalse();
    }

    [Fact]
    public void Accepts_AfterAppend_OnlyAReplicaThatReachedTheSequence()
    {
        _heads.Created(Replica(lastSequence: 0, version: 1));
        _heads.Appended("s-1", 5);

        _heads.Accepts("s-1", Replica(lastSequence: 4)).Should().BeFalse();
        _heads.Accepts("s-1", null).Should().BeFalse("the session exists");
        _heads.Accepts("s-1", Replica(lastSequence: 5)).Should().BeTrue();
        _heads.Accepts("s-1", Replica(lastSequence: 9)).Should().BeTrue("another instance appended more");
    }

    [Fact]
    public void Accepts_AfterUpdate_OnlyAReplicaThatReachedTheVersion()
    {
        _heads.Updated(Replica(lastSequence: 2, version: 4));

        _heads.Accepts("s-1", Replica(lastSequence: 2, version: 3)).Should().BeFalse();
        _heads.Accepts("s-1", Replica(lastSequence: 2, version: 4)).Should().BeTrue();
    }

    [Fact]
    public void Updated_ResultOlderThanAConcurrentAppend_KeepsTheAppendsSequence()
    {
        _heads.Appended("s-1", 7);
        _heads.Updated(Replica(lastSequence: 6, version: 2));

        _heads.Accepts("s-1", Replica(lastSequence: 6, version: 2)).Should().BeFalse();
        _heads.Accepts("s-1", Replica(lastSequence: 7, version: 2)).Should().BeTrue();
    }

    [Fact]
    public void Accepts_AfterDelete_OnlyNoSession()
    {
        _heads.Appended("s-1", 3);
        _heads.Deleted("s-1");

        _heads.Accepts("s-1", Replica(lastSequence: 3)).Should().BeFalse();
        _heads.Accepts("s-1", null).Should().BeTrue();
    }

    [Fact]
    public void Accepts_AfterDeleteAndCreate_NotTheOldLifeOfTheId()
    {
        _heads.Appended("s-1", 9);
        _heads.Deleted("s-1");
        _heads.Created(Replica(lastSequence: 0, version: 1, created: Created.AddSeconds(1)));

        _heads.Accepts("s-1", Replica(lastSequence: 9, version: 3)).Should().BeFalse("that is the deleted session");
        _heads.Accepts("s-1", Replica(lastSequence: 0, version: 1, created: Created.AddSeconds(1))).Should().BeTrue();
    }

    [Fact]
    public void NeedsPrimary_AppendAfterOwnDelete_UntilThisInstanceCreatesOrDeletesAgain()
    {
        _heads.Deleted("s-1");
        _heads.Appended("s-1", 1); // another instance created it meanwhile

        _heads.NeedsPrimary("s-1").Should().BeTrue();
        _heads.Appended("s-1", 2);
        _heads.NeedsPrimary("s-1").Should().BeTrue();
        _heads.Deleted("s-1");
        _heads.NeedsPrimary("s-1").Should().BeFalse();
    }

    [Fact]
    public void NeedsPrimary_AfterTrimOrAFailedAppend_UntilTheNextAppend()
    {
        _heads.Appended("s-1", 10);
        _heads.Unsure("s-1");

        _heads.NeedsPrimary("s-1").Should().BeTrue();
        _heads.Appended("s-1", 11);
        _heads.NeedsPrimary("s-1").Should().BeFalse();
        _heads.Accepts("s-1", Replica(lastSequence: 10)).Should().BeFalse();
        _heads.Accepts("s-1", Replica(lastSequence: 11)).Should().BeTrue();
    }

    [Fact]
    public void NeedsPrimary_AfterImport_EvenAfterLaterAppendsAndUpdates_UntilACreateOrDelete()
    {
        _heads.Replaced("s-1");
        _heads.Appended("s-1", 4);
        _heads.Updated(Replica(lastSequence: 4, version: 2));

        _heads.NeedsPrimary("s-1").Should().BeTrue();
        _heads.Created(Replica(lastSequence: 0, version: 1));
        _heads.NeedsPrimary("s-1").Should().BeFalse();
    }

    [Fact]
    public void Set_BeyondCapacity_ForgetsTheLeastRecentlyWritten()
    {
        _heads.Appended("first", 1);
        for (var i = 0; i < RedisWrittenHeads.Capacity; i++)
        {
            _heads.Appended("s-" + i, 1);
        }

        _heads.Count.Should().Be(RedisWrittenHeads.Capacity);
        _heads.Accepts("first", null).Should().BeTrue("it was forgotten");
        _heads.Accepts("s-0", null).Should().BeFalse();
    }

    private static ChatSession Replica(long lastSequence, long version = 1, DateTimeOffset? created = null) =>
        new() { SessionId = "s-1", CreatedAt = created ?? Created, LastSequence = lastSequence, Version = version };
}
