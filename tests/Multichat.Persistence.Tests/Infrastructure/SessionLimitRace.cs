using FluentAssertions;

namespace Multichat.Persistence.Tests.Infrastructure;

/// <summary>
/// Several worker processes create sessions at once under one MaxSessions limit; afterwards the store must hold
/// exactly the limit: under Reject every other create was refused with QuotaExceededException, under
/// EvictLeastRecentlyActive every create succeeded and evicted instead.
/// </summary>
public static class SessionLimitRace
{
    /// <summary>Starts <paramref name="workers"/> create-sessions workers over one store, releases them together, and checks the outcome.</summary>
    /// <param name="storageType">The worker's storage type argument.</param>
    /// <param name="location">A storage path or connection string.</param>
    /// <param name="workers">How many processes race.</param>
    /// <param name="perWorker">How many creates each process tries.</param>
    /// <param name="maxSessions">The limit every worker runs under.</param>
    /// <param name="openReader">Opens an instance over the same store to count what was stored.</param>
    /// <param name="extraArguments">Appended to each worker's arguments (a Redis key prefix).</param>
    public static async Task RunAsync(
        string storageType, string location, int workers, int perWorker, int maxSessions, Func<SessionPersistence> openReader, params string[] extraArguments)
    {
        var outcomes = await RaceAsync(storageType, location, workers, perWorker, maxSessions, extraArguments);

        outcomes.Should().HaveCount(workers * perWorker, "every create reports created or quota");
        var created = outcomes.Where(o => o.Outcome == "created").Select(o => o.Id).ToList();
        created.Should().HaveCount(maxSessions, "creators racing under MaxSessions never pass it, and stop short of it only by refusing");
        var stored = await StoredAsync(openReader, maxSessions);
        stored.Should().BeEquivalentTo(created, "the sessions stored are exactly those whose create was acknowledged");
    }

    /// <summary>The same race under <see cref="SessionLimitPolicy.EvictLeastRecentlyActive"/>: every create succeeds
    /// (each one beyond the limit evicts instead), and afterwards the store holds exactly the limit, all of them
    /// sessions whose create was acknowledged.</summary>
    public static async Task RunEvictingAsync(
        string storageType, string location, int workers, int perWorker, int maxSessions, Func<SessionPersistence> openReader, params string[] extraArguments)
    {
        var outcomes = await RaceAsync(storageType, location, workers, perWorker, maxSessions, [.. extraArguments, "--evict"]);

        outcomes.Should().HaveCount(workers * perWorker).And.OnlyContain(o => o.Outcome == "created", "under eviction no create is refused");
        var stored = await StoredAsync(openReader, maxSessions);
        stored.Should().OnlyContain(id => outcomes.Any(o => o.Id == id), "only acknowledged sessions are stored");
    }

    /// <summary>Starts the workers, releases them together and collects what each reported.</summary>
    private static async Task<List<(string Outcome, string Id)>> RaceAsync(
        string storageType, string location, int workers, int perWorker, int maxSessions, string[] extraArguments)
    {
        var started = new List<TestWorkerProcess>();
        try
        {
            for (var w = 0; w < workers; w++)
            {
                started.Add(TestWorkerProcess.Start(
                    ["create-sessions", storageType, location, $"w{w}-", perWorker.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     maxSessions.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extraArguments]));
            }

            await Task.WhenAll(started.Select(w => w.Ready)).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            foreach (var worker in started)
            {
                worker.Go();
            }

            foreach (var worker in started)
            {
                var code = await worker.WaitForExitAsync(TimeSpan.FromSeconds(120));
                code.Should().Be(0, "a worker only reports outcomes; its error output was: {0}", worker.StandardError);
            }

            return [.. started.SelectMany(w => w.Outcomes).Select(o => (o.Outcome, o.Id))];
        }
        finally
        {
            foreach (var worker in started)
            {
                worker.Dispose();
            }
        }
    }

    /// <summary>The ids the store holds afterwards, checked to be exactly <paramref name="maxSessions"/> by count and by listing.</summary>
    private static async Task<List<string>> StoredAsync(Func<SessionPersistence> openReader, int maxSessions)
    {
        await using var reader = openReader();
        var statistics = await reader.GetStatisticsAsync(TestContext.Current.CancellationToken);
        statistics.SessionCount.Should().Be(maxSessions, "racing creators never leave the store over the limit");
        var stored = new List<string>();
        await foreach (var id in reader.Store.ListSessionIdsAsync(TestContext.Current.CancellationToken))
        {
            stored.Add(id);
        }

        stored.Should().HaveCount(maxSessions);
        return stored;
    }
}
