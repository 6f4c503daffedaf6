// Test worker: the other process of the multi-process and crash tests. It writes through SessionPersistence, like an
// application, and prints one line per acknowledged result (flushing stdout), so a parent test knows exactly what was
// acknowledged before it killed us. The modes and their arguments are described in their own files.
using Multichat.Persistence.TestWorker;

return args switch
{
    ["create-sessions", ..] when args.Length >= 6 => await CreateSessionsMode.RunAsync(args),
    ["write", ..] when args.Length >= 7 => await WriteMode.RunAsync(args),
    ["maintain", ..] when args.Length >= 7 => await MaintainMode.RunAsync(args),
    ["restore", ..] when args.Length >= 4 => await RestoreArchiveMode.RunAsync(args),
    ["reencrypt", ..] when args.Length >= 5 => await ReencryptMode.RunAsync(args),
    ["cache-read", ..] when args.Length >= 4 => await CacheReadMode.RunAsync(args),
    ["chat", ..] when args.Length >= 6 => await ChatMode.RunAsync(args),
    _ when args.Length >= 5 && args[0] is not ("create-sessions" or "write" or "maintain" or "restore" or "reencrypt" or "cache-read" or "chat") => await AppendMode.RunAsync(args),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: TestWorker <storageType> <storagePath|connectionString> <sessionId> <idPrefix> <count|forever> [durability] [redisKeyPrefix]");
    Console.Error.WriteLine("       TestWorker create-sessions <storageType> <storagePath|connectionString> <idPrefix> <count> <maxSessions> [redisKeyPrefix] [--evict]");
    Console.Error.WriteLine("       TestWorker maintain <storageType> <storagePath|connectionString> <backupPath|-> <intervalSeconds> <backupsToKeep> <startUnixMs> [redisKeyPrefix]");
    Console.Error.WriteLine("       TestWorker restore <storageType> <storagePath|connectionString> <archivePath> [redisKeyPrefix]");
    Console.Error.WriteLine("       TestWorker reencrypt <storageType> <storagePath|connectionString> <currentKeyId> <id=base64[,id=base64...]> [redisKeyPrefix] [--hold-after <messages>]");
    Console.Error.WriteLine("       TestWorker cache-read <storageType> <storagePath|connectionString> <sessionId> [redisKeyPrefix]");
    Console.Error.WriteLine("       TestWorker chat <storageType> <storagePath|connectionString> <sessionId> <participant> <count> [redisKeyPrefix]");
    Console.Error.WriteLine("       TestWorker write <storageType> <storagePath|connectionString> <sessionId> <idPrefix> <operation> <count> [--crash-at <point>[#<hit>]] [--trace] [--durability <d>] [--redis-prefix <p>]");
    return 2;
}
