using System.Globalization;

namespace Multichat.Persistence.TestWorker;

/// <summary>
/// Creates sessions &lt;idPrefix&gt;0 … &lt;idPrefix&gt;&lt;count-1&gt; under MaxSessions, waiting for "go" on stdin so that
/// every worker starts together, and prints "created &lt;id&gt;" or "quota &lt;id&gt;" for each.
/// <c>TestWorker create-sessions &lt;storageType&gt; &lt;location&gt; &lt;idPrefix&gt; &lt;count&gt; &lt;maxSessions&gt; [redisKeyPrefix] [--evict]</c>;
/// with <c>--evict</c> the limit's policy is <see cref="SessionLimitPolicy.EvictLeastRecentlyActive"/>.
/// </summary>
internal static class CreateSessionsMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var evict = args.Contains("--evict");
        args = [.. args.Where(a => a != "--evict")];
        var options = WorkerOptions.For(args[1], args[2], Durability.Normal, args.Length > 6 ? args[6] : null);
        options.MaxSessions = int.Parse(args[5], CultureInfo.InvariantCulture);
        options.SessionLimitPolicy = evict ? SessionLimitPolicy.EvictLeastRecentlyActive : SessionLimitPolicy.Reject;
        var idPrefix = args[3];
        var total = int.Parse(args[4], CultureInfo.InvariantCulture);
        await using var creator = SessionPersistence.Create(options);
        Console.WriteLine("ready");
        Console.Out.Flush();
        _ = Console.ReadLine();
        for (var i = 0; i < total; i++)
        {
            var id = $"{idPrefix}{i}";
            try
            {
                await creator.CreateSessionAsync(id, [idPrefix]);
                Console.WriteLine($"created {id}");
            }
            catch (QuotaExceededException)
            {
                Console.WriteLine($"quota {id}");
            }

            Console.Out.Flush();
        }

        return 0;
    }
}
