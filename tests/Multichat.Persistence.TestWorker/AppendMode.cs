using System.Globalization;

namespace Multichat.Persistence.TestWorker;

/// <summary>
/// Appends messages and prints "ack &lt;id&gt; &lt;sequence&gt;" after each one is acknowledged.
/// <c>TestWorker &lt;storageType&gt; &lt;location&gt; &lt;sessionId&gt; &lt;idPrefix&gt; &lt;count|forever&gt; [durability] [redisKeyPrefix]</c>.
/// The session must exist (the parent creates it). Exit code 0 after &lt;count&gt; appends.
/// </summary>
internal static class AppendMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = WorkerOptions.For(
            args[0], args[1], args.Length > 5 ? Enum.Parse<Durability>(args[5], ignoreCase: true) : Durability.Normal, args.Length > 6 ? args[6] : null);
        var sessionId = args[2];
        var prefix = args[3];
        var count = args[4] == "forever" ? long.MaxValue : long.Parse(args[4], CultureInfo.InvariantCulture);

        await using var persistence = SessionPersistence.Create(options);
        var stdout = Console.Out;
        Console.WriteLine("ready");
        for (long i = 0; i < count; i++)
        {
            var id = $"{prefix}{i}";
            var stored = await persistence.AddMessageAsync(new ChatMessage { Id = id, SessionId = sessionId, Sender = prefix, Content = $"message {i} from {prefix}" });
            stdout.WriteLine($"ack {stored.Id} {stored.Sequence}");
            stdout.Flush();
        }

        return 0;
    }
}
