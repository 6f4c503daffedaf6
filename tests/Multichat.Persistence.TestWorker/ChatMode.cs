using System.Globalization;

namespace Multichat.Persistence.TestWorker;

/// <summary>
/// One participant chatting, for the read-state and change-feed tests across processes:
/// <c>TestWorker chat &lt;storageType&gt; &lt;location&gt; &lt;sessionId&gt; &lt;participant&gt; &lt;count&gt; [redisKeyPrefix]</c>.
/// Does <c>count</c> steps, each (seeded by the participant's name) either an append of one message sent by the
/// participant ("sent &lt;sequence&gt;") or a mark of a random stored sequence as read ("marked &lt;cursor&gt;"), then
/// prints "done".
/// </summary>
internal static class ChatMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = WorkerOptions.For(args[1], args[2], Durability.Normal, args.Length > 6 ? args[6] : null);
        var (sessionId, participant) = (args[3], args[4]);
        var count = int.Parse(args[5], CultureInfo.InvariantCulture);
        await using var persistence = SessionPersistence.Create(options);
        var random = new Random(participant.Sum(c => c));
        for (var i = 0; i < count; i++)
        {
            if (random.Next(3) == 0)
            {
                var last = (await persistence.GetSessionAsync(sessionId).ConfigureAwait(false))!.LastSequence;
                var state = await persistence.MarkReadAsync(sessionId, participant, random.NextInt64(0, last + 1)).ConfigureAwait(false);
                Print($"marked {state.LastReadSequence}");
            }
            else
            {
                var sent = await persistence.AddMessageAsync(
                    new ChatMessage { Id = $"{participant}-{i}", SessionId = sessionId, Sender = participant, Content = $"step {i} of {participant}" }).ConfigureAwait(false);
                Print($"sent {sent.Sequence}");
            }
        }

        Print("done");
        return 0;
    }

    private static void Print(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}
