using FluentAssertions;

namespace Multichat.Persistence.Tests.Infrastructure;

/// <summary>
/// The cross-process checks of issue 14, for any store whose storage other processes share: a watcher started
/// halfway through another process's appends receives every later message once, in order; and read states stay exact
/// under appends and marks from another process and from tasks here, against a recount of the stored messages.
/// </summary>
public static class FeedAcrossProcesses
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <param name="options">Opens this process's instance over the shared storage.</param>
    /// <param name="storageType">The worker's store type argument.</param>
    /// <param name="location">The worker's storage path or connection string.</param>
    /// <param name="redisKeyPrefix">The worker's Redis key prefix, when the store is Redis.</param>
    /// <param name="total">How many messages the writer process appends (the acceptance test uses 1,000).</param>
    public static async Task WatcherStartedHalfway_ReceivesEveryLaterMessageOnceInOrderAsync(
        SessionPersistenceOptions options, string storageType, string location, string? redisKeyPrefix, int total = 1_000)
    {
        await using var persistence = SessionPersistence.Create(options);
        await persistence.CreateSessionAsync("feed", ["writer", "watcher"], cancellationToken: Ct);
        string[] arguments = redisKeyPrefix is null
            ? [storageType, location, "feed", "writer", total.ToString(System.Globalization.CultureInfo.InvariantCulture)]
            : [storageType, location, "feed", "writer", total.ToString(System.Globalization.CultureInfo.InvariantCulture), "Normal", redisKeyPrefix];
        using var writer = TestWorkerProcess.Start(arguments);
        await writer.WaitUntilAsync(w => w.Acknowledged.Count >= total / 2, Patience);

        var cursor = writer.Acknowledged[^1].Sequence;
        var received = new List<ChatMessage>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        stop.CancelAfter(Patience);
        await foreach (var message in persistence.WatchMessagesAsync("feed", cursor, stop.Token))
        {
            received.Add(message);
            if (message.Sequence == total)
            {
                break;
            }
        }

        (await writer.WaitForExitAsync(Patience)).Should().Be(0, writer.StandardError);
        received.Select(m => m.Sequence).Should().Equal(Enumerable.Range((int)cursor + 1, total - (int)cursor).Select(i => (long)i));
        received.Select(m => m.Id).Should().Equal(writer.Acknowledged.Where(a => a.Sequence > cursor).Select(a => a.Id));
    }

    /// <param name="options">Opens this process's instance over the shared storage.</param>
    /// <param name="storageType">The worker's store type argument.</param>
    /// <param name="location">The worker's storage path or connection string.</param>
    /// <param name="redisKeyPrefix">The worker's Redis key prefix, when the store is Redis.</param>
    public static async Task UnreadCounts_AcrossProcessesAndTasks_EqualARecountAsync(
        SessionPersistenceOptions options, string storageType, string location, string? redisKeyPrefix)
    {
        string[] here = ["Agent-1", "Agent-2", "Agent-3"];
        const string There = "Agent-4";
        await using var persistence = SessionPersistence.Create(options);
        await persistence.CreateSessionAsync("reads", [.. here, There], cancellationToken: Ct);
        string[] arguments = redisKeyPrefix is null
            ? ["chat", storageType, location, "reads", There, "200"]
            : ["chat", storageType, location, "reads", There, "200", redisKeyPrefix];
        using var other = TestWorkerProcess.Start(arguments);

        await Task.WhenAll(here.Select(async (participant, index) =>
        {
            var random = new Random(index);
            for (var i = 0; i < 100; i++)
            {
                if (random.Next(3) == 0)
                {
                    var last = (await persistence.GetSessionAsync("reads", Ct))!.LastSequence;
                    await persistence.MarkReadAsync("reads", participant, random.NextInt64(0, last + 1), Ct);
                }
                else
                {
                    await persistence.AddMessageAsync(
                        new ChatMessage { Id = $"{participant}-{i}", SessionId = "reads", Sender = participant, Content = $"step {i}" }, Ct);
                }
            }
        }));
        (await other.WaitForExitAsync(Patience)).Should().Be(0, other.StandardError);

        var stored = await StoredMessages.ReadAllAsync(persistence, "reads", Ct);
        stored.Count(m => m.Sender == There).Should().Be(other.Events.Count(e => e.StartsWith("sent ", StringComparison.Ordinal)));
        foreach (var participant in here.Append(There))
        {
            var state = await persistence.GetReadStateAsync("reads", participant, Ct);
            var ownLatest = stored.Where(m => m.Sender == participant).Select(m => m.Sequence).DefaultIfEmpty(0).Max();
            state.LastReadSequence.Should().BeGreaterThanOrEqualTo(ownLatest, participant);
            var unread = stored.Where(m => m.Sequence > state.LastReadSequence).ToList();
            unread.Should().NotContain(m => m.Sender == participant);
            state.UnreadCount.Should().Be(unread.Count, participant);
            state.FirstUnreadSequence.Should().Be(unread.Count == 0 ? null : unread[0].Sequence, participant);
        }
    }
}
