using FluentAssertions;
using Multichat.Persistence.Stores.Json;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>The compact idempotency index: every id added is proposed again, across growth and sequences past 2^32.</summary>
public sealed class JsonIdIndexTests
{
    [Fact]
    public void Candidates_AfterManyAddsAndGrowth_IncludeEveryAddedSequence()
    {
        var index = new JsonIdIndex();
        const long First = (1L << 32) - 1000; // crosses the 32-bit boundary of the stored low bits
        for (long i = 0; i < 50_000; i++)
        {
            index.Add(JsonSessionKey.HashOf($"id-{i}"), First + i);
        }

        var found = new List<long>();
        for (long i = 0; i < 50_000; i += 7)
        {
            index.Candidates(JsonSessionKey.HashOf($"id-{i}"), First + 49_999, found);
            found.Should().Contain(First + i);
        }

        index.Count.Should().Be(50_000);
    }

    [Fact]
    public void Candidates_UnknownId_AreUsuallyNone()
    {
        var index = new JsonIdIndex();
        for (var i = 0; i < 10_000; i++)
        {
            index.Add(JsonSessionKey.HashOf($"id-{i}"), i + 1);
        }

        var found = new List<long>();
        var hits = 0;
        for (var i = 0; i < 10_000; i++)
        {
            index.Candidates(JsonSessionKey.HashOf($"other-{i}"), 10_000, found);
            hits += found.Count;
        }

        hits.Should().BeLessThan(3, "a 32-bit fragment makes false candidates rare; each only costs one read");
    }
}
