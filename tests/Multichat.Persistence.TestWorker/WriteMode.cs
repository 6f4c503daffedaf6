using System.Diagnostics;
using System.Globalization;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.TestWorker;

/// <summary>
/// Runs one kind of write and prints what was acknowledged, optionally dying at a named step of the store's write path
/// (the store's fault points, see <see cref="FaultInjection"/>):
/// <c>TestWorker write &lt;storageType&gt; &lt;location&gt; &lt;sessionId&gt; &lt;idPrefix&gt; &lt;operation&gt; &lt;count&gt; [--crash-at &lt;point&gt;[#&lt;hit&gt;]] [--trace] [--durability &lt;d&gt;] [--redis-prefix &lt;p&gt;]</c>.
/// <list type="bullet">
/// <item><c>append</c>: &lt;count&gt; appends of &lt;idPrefix&gt;&lt;i&gt;; "ack &lt;id&gt; &lt;sequence&gt;" after each.</item>
/// <item><c>batch:&lt;size&gt;</c>: &lt;count&gt; batches of &lt;size&gt;; "ack" for each message once its batch returned.</item>
/// <item><c>trim:&lt;keep&gt;</c>: &lt;count&gt; appends (acked), a trim to the latest &lt;keep&gt; ("trimmed &lt;removed&gt;"), then one
/// append of &lt;idPrefix&gt;after (acked).</item>
/// <item><c>update</c>: &lt;count&gt; title updates; "updated &lt;version&gt;" after each.</item>
/// <item><c>delete</c>: &lt;count&gt; appends (acked), then the session's delete ("deleted").</item>
/// <item><c>create</c>: creates the session ("created"); the parent does not create it first.</item>
/// <item><c>import</c>: imports the session (replacing it) with &lt;count&gt; messages &lt;idPrefix&gt;&lt;i&gt; at sequences 1…count
/// ("imported &lt;messages&gt;").</item>
/// </list>
/// Except for <c>create</c> and <c>import</c>, the session must exist (the parent creates it). With <c>--trace</c> each fault point
/// reached prints "point &lt;name&gt;"; with <c>--crash-at</c> the process prints "crash &lt;name&gt;" and kills itself
/// (SIGKILL) when it reaches that point for the &lt;hit&gt;-th time (default the first).
/// </summary>
internal static class WriteMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var (storageType, location, sessionId, prefix, operation) = (args[1], args[2], args[3], args[4], args[5]);
        var count = int.Parse(args[6], CultureInfo.InvariantCulture);
        string? crashAt = null;
        var crashHit = 1;
        var trace = false;
        var durability = Durability.Normal;
        string? redisPrefix = null;
        for (var i = 7; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--crash-at":
                    var point = args[++i].Split('#');
                    crashAt = point[0];
                    crashHit = point.Length > 1 ? int.Parse(point[1], CultureInfo.InvariantCulture) : 1;
                    break;
                case "--trace":
                    trace = true;
                    break;
                case "--durability":
                    durability = Enum.Parse<Durability>(args[++i], ignoreCase: true);
                    break;
                case "--redis-prefix":
                    redisPrefix = args[++i];
                    break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}");
                    return 2;
            }
        }

        var options = WorkerOptions.For(storageType, location, durability, redisPrefix);
        var stdout = Console.Out;
        var hits = 0;
        options.FaultInjection = new FaultInjection(point =>
        {
            // Lock the console so "point"/"crash" lines never interleave with another thread's line.
            lock (stdout)
            {
                if (trace)
                {
                    stdout.WriteLine($"point {point}");
                    stdout.Flush();
                }

                if (point == crashAt && ++hits == crashHit)
                {
                    stdout.WriteLine($"crash {point}");
                    stdout.Flush();
                    Process.GetCurrentProcess().Kill();
                }
            }
        });

        await using var persistence = SessionPersistence.Create(options);
        Print("ready");
        switch (operation.Split(':'))
        {
            case ["append"]:
                await AppendAsync(persistence, sessionId, prefix, 0, count);
                break;
            case ["batch", var size]:
                var batchSize = int.Parse(size, CultureInfo.InvariantCulture);
                for (var b = 0; b < count; b++)
                {
                    var batch = Enumerable.Range(b * batchSize, batchSize).Select(i => Message(sessionId, prefix, i.ToString(CultureInfo.InvariantCulture))).ToList();
                    foreach (var stored in await persistence.AddMessagesAsync(sessionId, batch))
                    {
                        Print($"ack {stored.Id} {stored.Sequence}");
                    }
                }

                break;
            case ["trim", var keep]:
                await AppendAsync(persistence, sessionId, prefix, 0, count);
                Print($"trimmed {await persistence.TrimMessagesAsync(sessionId, long.Parse(keep, CultureInfo.InvariantCulture))}");
                var after = await persistence.AddMessageAsync(Message(sessionId, prefix, "after"));
                Print($"ack {after.Id} {after.Sequence}");
                break;
            case ["update"]:
                for (var i = 0; i < count; i++)
                {
                    var session = await persistence.GetSessionAsync(sessionId) ?? throw new InvalidOperationException($"Session {sessionId} is missing.");
                    var updated = await persistence.UpdateSessionAsync(session with { Title = $"title {i}" });
                    Print($"updated {updated.Version}");
                }

                break;
            case ["delete"]:
                await AppendAsync(persistence, sessionId, prefix, 0, count);
                await persistence.DeleteSessionAsync(sessionId);
                Print("deleted");
                break;
            case ["create"]:
                await persistence.CreateSessionAsync(sessionId, [prefix]);
                Print("created");
                break;
            case ["import"]:
                var report = await persistence.ImportAsync(ImportItems(sessionId, prefix, count), replaceExisting: true);
                Print($"imported {report.Messages}");
                break;
            default:
                Console.Error.WriteLine($"unknown operation {operation}");
                return 2;
        }

        return 0;

        void Print(string line)
        {
            lock (stdout)
            {
                stdout.WriteLine(line);
                stdout.Flush();
            }
        }

        async Task AppendAsync(SessionPersistence store, string session, string idPrefix, int from, int appends)
        {
            for (var i = from; i < from + appends; i++)
            {
                var stored = await store.AddMessageAsync(Message(session, idPrefix, i.ToString(CultureInfo.InvariantCulture)));
                Print($"ack {stored.Id} {stored.Sequence}");
            }
        }
    }

    private static ChatMessage Message(string sessionId, string prefix, string suffix) =>
        new() { Id = $"{prefix}{suffix}", SessionId = sessionId, Sender = prefix, Content = $"message {suffix} from {prefix}" };

    private static async IAsyncEnumerable<PortableItem> ImportItems(string sessionId, string prefix, int count)
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        yield return PortableItem.ForSession(new ChatSession
        {
            SessionId = sessionId, Participants = [prefix], CreatedAt = at, UpdatedAt = at, MessageCount = count, LastSequence = count, Version = 1,
        });
        for (var i = 0; i < count; i++)
        {
            yield return PortableItem.ForMessage(Message(sessionId, prefix, i.ToString(CultureInfo.InvariantCulture)) with
            {
                Sequence = i + 1, Timestamp = at.AddSeconds(i),
            });
        }

        await Task.CompletedTask;
    }
}
