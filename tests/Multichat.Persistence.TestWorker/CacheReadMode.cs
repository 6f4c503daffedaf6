using System.Globalization;

namespace Multichat.Persistence.TestWorker;

/// <summary>
/// Reads one session through the read cache, for the cache coherence tests:
/// <c>TestWorker cache-read &lt;storageType&gt; &lt;location&gt; &lt;sessionId&gt; [redisKeyPrefix]</c>.
/// Between commands it reads without pause and prints every change of what it sees ("seen-messages &lt;ids&gt;",
/// "seen-record &lt;title&gt;/&lt;version&gt;"), so the parent can check no read ever showed a state the store never held.
/// On "read &lt;n&gt;" from stdin it finishes the read in flight, reads once more and answers
/// "state &lt;n&gt; &lt;ids&gt; &lt;title&gt;/&lt;version&gt;" (each "-" for a missing session); "quit" ends it.
/// </summary>
internal static class CacheReadMode
{
    public const int Window = 8;
    public const int Latest = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = WorkerOptions.For(args[1], args[2], Durability.Normal, args.Length > 4 ? args[4] : null);
        options.Cache.Enabled = true;
        options.Cache.MessagesPerSession = Window;
        var sessionId = args[3];
        await using var persistence = SessionPersistence.Create(options);
        using var stop = new CancellationTokenSource();
        var gate = new SemaphoreSlim(1, 1);
        var (lastMessages, lastRecord) = ("", "");
        var spinner = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await gate.WaitAsync().ConfigureAwait(false);
                try
                {
                    var (messages, record) = await ReadAsync(persistence, sessionId).ConfigureAwait(false);
                    if (messages != lastMessages)
                    {
                        Print($"seen-messages {messages}");
                        lastMessages = messages;
                    }

                    if (record != lastRecord)
                    {
                        Print($"seen-record {record}");
                        lastRecord = record;
                    }
                }
                finally
                {
                    gate.Release();
                }
            }
        });

        Print("ready");
        while (Console.In.ReadLine() is { } line && line != "quit")
        {
            var parts = line.Split(' ');
            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                var (messages, record) = await ReadAsync(persistence, sessionId).ConfigureAwait(false);
                Print($"state {parts[1]} {messages} {record}");
            }
            finally
            {
                gate.Release();
            }
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await spinner.ConfigureAwait(false);
        return 0;
    }

    /// <summary>The latest messages as id:content (comma-separated; the tests write contents without spaces) and the record's title/version; "-" for a missing session.</summary>
    public static async Task<(string Messages, string Record)> ReadAsync(SessionPersistence persistence, string sessionId)
    {
        string messages;
        try
        {
            messages = string.Join(',', (await persistence.GetMessagesAsync(sessionId, Latest).ConfigureAwait(false)).Select(m => $"{m.Id}:{m.Content}"));
            messages = messages.Length == 0 ? "(none)" : messages;
        }
        catch (SessionNotFoundException)
        {
            messages = "-";
        }

        var session = await persistence.GetSessionAsync(sessionId).ConfigureAwait(false);
        var record = session is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{session.Title}/{session.Version}");
        return (messages, record);
    }

    private static void Print(string line)
    {
        lock (Console.Out)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }
}
