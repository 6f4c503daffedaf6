// Test worker: appends messages through SessionPersistence and prints "ack <id> <sequence>" after each one is
// acknowledged, flushing stdout, so a parent test knows exactly what was acknowledged before it killed us.
//
// Usage: TestWorker <storageType> <storagePath|connectionString> <sessionId> <idPrefix> <count|forever> [durability] [redisKeyPrefix]
// The session must exist (the parent creates it). Exit code 0 after <count> appends.
using System.Globalization;
using Multichat.Persistence;

if (args.Length < 5)
{
    Console.Error.WriteLine("usage: TestWorker <storageType> <storagePath|connectionString> <sessionId> <idPrefix> <count|forever> [durability] [redisKeyPrefix]");
    return 2;
}

var options = new SessionPersistenceOptions
{
    StorageType = Enum.Parse<StorageType>(args[0], ignoreCase: true),
    Durability = args.Length > 5 ? Enum.Parse<Durability>(args[5], ignoreCase: true) : Durability.Normal,
};
if (args[1].Contains('=', StringComparison.Ordinal) || (options.StorageType == StorageType.Redis && !args[1].StartsWith("redis://", StringComparison.Ordinal)))
{
    options.ConnectionString = args[1];
}
else
{
    options.StoragePath = args[1];
}

if (args.Length > 6)
{
    options.RedisKeyPrefix = args[6];
}

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
