using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>Several processes (the multi-machine case) appending to one session through one Redis.</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisMultiProcessTests(RedisSingleNodeFixture redis) : IAsyncLifetime
{
    private readonly string _prefix = "w" + Guid.NewGuid().ToString("N")[..12] + ":";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await redis.DeleteKeysAsync(_prefix);

    [Fact]
    public Task AddMessage_FourProcessesThousandEach_ExactlyFourThousandGaplessSequences() => FourProcessesAsync(redis.ConnectionString, _prefix);

    /// <summary>4 TestWorker processes append 1,000 messages each to one session of the Redis <paramref name="connectionString"/> names.</summary>
    internal static async Task FourProcessesAsync(string connectionString, string prefix)
    {
        const int Processes = 4, PerProcess = 1000;
        await using var store = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Redis,
            ConnectionString = connectionString,
            RedisKeyPrefix = prefix,
        });
        await store.CreateSessionAsync("shared", ["w0", "w1", "w2", "w3"], cancellationToken: Ct);

        var workers = Enumerable.Range(0, Processes)
            .Select(w => TestWorkerProcess.Start("Redis", connectionString, "shared", $"w{w}-", PerProcess.ToString(System.Globalization.CultureInfo.InvariantCulture), "Normal", prefix))
            .ToList();
        try
        {
            foreach (var worker in workers)
            {
                (await worker.WaitForExitAsync(TimeSpan.FromMinutes(2))).Should().Be(0, worker.StandardError);
            }

            var all = new List<ChatMessage>();
            MessageQuery? query = new() { Limit = 1000 };
            while (query is not null)
            {
                var page = await store.GetMessagesAsync("shared", query, Ct);
                all.AddRange(page.Messages);
                query = page.Next;
            }

            all.Should().HaveCount(Processes * PerProcess);
            all.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, Processes * PerProcess).Select(i => (long)i));
            all.Select(m => m.Id).Should().OnlyHaveUniqueItems();
            var acknowledged = workers.SelectMany(w => w.Acknowledged).ToList();
            acknowledged.Should().HaveCount(Processes * PerProcess);
            var stored = all.ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal);
            acknowledged.Where(a => !stored.TryGetValue(a.Id, out var sequence) || sequence != a.Sequence).Should()
                .BeEmpty("every process got back the sequence that was stored");
            (await store.GetSessionAsync("shared", Ct))!.LastSequence.Should().Be(Processes * PerProcess);
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }
}
