// Test worker: the other process of the multi-process tests.
//
// Append mode: appends messages through SessionPersistence and prints "ack <id> <sequence>" after each one is
// acknowledged, flushing stdout, so a parent test knows exactly what was acknowledged before it killed us.
//   TestWorker <storageType> <storagePath|connectionString> <sessionId> <idPrefix> <count|forever> [durability] [redisKeyPrefix]
//   The session must exist (the parent creates it). Exit code 0 after <count> appends.
//
// Create mode: creates sessions <idPrefix>0 … <idPrefix><count-1> under MaxSessions, waiting for "go" on stdin so
// that every worker starts together, and prints "created <id>" or "quota <id>" for each.
//   TestWorker create-sessions <storageType> <storagePath|connectionString> <idPrefix> <count> <maxSessions> [redisKeyPrefix]
using System.Globalization;
using Multichat.Persistence;

if (args.Length >= 6 && args[0] == "create-sessions")
{
    var createOptions = Options(args[1], args[2], Durability.Normal, args.Length > 6 ? args[6] : null);
    createOptions.MaxSessions = int.Parse(args[5], CultureInfo.InvariantCulture);
    var idPrefix = args[3];
    var total = int.Parse(args[4], CultureInfo.InvariantCulture);
    await using var creator = SessionPersistence.Create(createOptions);
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

if (args.Length < 5)
{
    Console.Error.WriteLine("usage: TestWorker <storageType> <storagePath|connectionString> <sessionId> <idPrefix> <count|forever> [durability] [redisKeyPrefix]");
    Console.Error.WriteLine("       TestWorker create-sessions <storageType> <storagePath|connectionString> <idPrefix> <count> <maxSessions> [redisKeyPrefix]");
    return 2;
}

var options = Options(
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

static SessionPersistenceOptions Options(string storageType, string location, Durability durability, string? redisKeyPrefix)
{
    var options = new SessionPersistenceOptions
    {
        StorageType = Enum.Parse<StorageType>(storageType, ignoreCase: true),
        Durability = durability,
    };
    if (location.Contains('=', StringComparison.Ordinal) || (options.StorageType == StorageType.Redis && !location.StartsWith("redis://", StringComparison.Ordinal)))
    {
        options.ConnectionString = location;
    }
    else
    {
        options.StoragePath = location;
    }

    if (redisKeyPrefix is not null)
    {
        options.RedisKeyPrefix = redisKeyPrefix;
    }

    return options;
}
