using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Multichat.Persistence.Benchmarks.Caching;
using Multichat.Persistence.Benchmarks.Feed;
using Multichat.Persistence.Benchmarks.Lifecycle;
using Multichat.Persistence.Benchmarks.Protection;

// Every benchmark class in this assembly, chosen on the command line, e.g.
//   dotnet run -c Release --project benchmarks/Multichat.Persistence.Benchmarks -- --filter '*Memory*'
// The median is always shown: docs/benchmarks.md quotes medians.
// "backup-restore" runs the backup/restore throughput and peak-memory run instead (see BackupRestoreRun).
if (args is ["backup-restore", ..])
{
    return await BackupRestoreRun.RunAsync(args);
}

// "compression-size" prints the stored size of a generated conversation with compression and encryption off and on.
if (args is ["compression-size", ..])
{
    return await CompressionSizeRun.RunAsync();
}

// "cache-memory" prints the managed heap the read cache retains at several bounds (see CacheMemoryRun).
if (args is ["cache-memory", ..])
{
    return await CacheMemoryRun.RunAsync(args);
}

// "feed-delay" prints how soon a watcher receives another process's append, per store (see FeedDelayRun);
// "feed-writer" is that run's writer process.
if (args is ["feed-delay", ..])
{
    return await FeedDelayRun.RunAsync(args);
}

if (args is ["feed-writer", ..])
{
    return await FeedDelayRun.WriteAsync(args);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, DefaultConfig.Instance.AddColumn(StatisticColumn.Median));
return 0;
