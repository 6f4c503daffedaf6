using Microsoft.Extensions.Logging;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// The Json store's native wake-up hint for the change feed: a <see cref="FileSystemWatcher"/> on a watched session's
/// folder (inotify on Linux, ReadDirectoryChangesW on Windows, FSEvents on macOS), which sees the appends, record
/// rewrites and deletes of every process on this machine within a millisecond or so. Only a hint: a watcher that
/// cannot start, or misses events (a full event queue, a network share whose other clients' writes the OS never
/// reports), leaves the feed to its poll.
/// </summary>
internal static class JsonFolderWatch
{
    // messages.jsonl: appends (Changed), compaction and restore (Renamed); session.json: a new life, an import, a
    // restore (Renamed onto it) and a delete (Deleted). The lock, .want, ids.idx and reads.json change no message.
    private static readonly string[] Files = ["messages.jsonl", "session.json"];

    /// <summary>Starts watching <paramref name="folder"/>, calling <paramref name="notify"/> on each change to its files;
    /// null when the folder cannot be watched (then the feed polls).</summary>
    public static FileSystemWatcher? Start(string folder, Action notify, ILogger logger, TimeSpan poll)
    {
        if (!Directory.Exists(folder))
        {
            // No such session: the feed's first read says so and ends.
            return null;
        }

        FileSystemWatcher? watcher = null;
        try
        {
            watcher = new FileSystemWatcher(folder)
            {
                IncludeSubdirectories = false,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
            };
            foreach (var file in Files)
            {
                watcher.Filters.Add(file);
            }

            FileSystemEventHandler changed = (_, _) => notify();
            watcher.Changed += changed;
            watcher.Created += changed;
            watcher.Deleted += changed;
            watcher.Renamed += (_, _) => notify();

            // Events were lost (the OS queue overflowed) or the watch broke: look at the session now, as after any change.
            watcher.Error += (_, _) => notify();
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            // Typically Linux's inotify limits (fs.inotify.max_user_watches / max_user_instances), or the folder removed
            // just now. Not an error of the store: the feed still delivers, at the poll's pace.
            watcher?.Dispose();
            JsonStoreLog.FolderWatchFailed(logger, ex.GetType().Name, poll.TotalMilliseconds);
            return null;
        }
    }
}
