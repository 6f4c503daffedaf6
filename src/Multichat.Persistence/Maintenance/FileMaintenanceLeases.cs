using System.Text.Json;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Maintenance;

/// <summary>
/// Leases for the stores that live in files (Json, Sqlite): a lock file that serialises each read-modify-write of a
/// small state file beside the store. The lock is held for microseconds, never for a whole round, so a process that
/// dies holding it frees it at once (the OS drops the lock with the process); the round's lease is the state's expiry
/// time, which the next instance sees pass. The state file is replaced by rename, so a kill mid-write leaves the old one.
/// Its folder, lock file and state file are created with the store's permissions (<paramref name="files"/>).
/// </summary>
internal sealed class FileMaintenanceLeases(string statePath, TimeProvider timeProvider, FileCreator? files = null) : IMaintenanceLeases
{
    private readonly FileCreator _files = files ?? FileCreator.OwnerOnly;

    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(10);

    private readonly string _lockPath = statePath + ".lock";

    /// <summary>The state file, for messages and tests.</summary>
    public string StatePath => statePath;

    public Task<MaintenanceClaim> TryClaimAsync(string task, long round, string holder, TimeSpan leaseTime, CancellationToken cancellationToken) =>
        UpdateAsync(task, state => state.Claim(round, holder, timeProvider.GetUtcNow(), leaseTime), cancellationToken);

    public Task<bool> RenewAsync(string task, string holder, TimeSpan leaseTime, CancellationToken cancellationToken) =>
        UpdateAsync(
            task,
            state => state.Renew(holder, timeProvider.GetUtcNow(), leaseTime) is { } next ? (true, next) : (false, state),
            cancellationToken);

    public Task CompleteAsync(string task, long round, string holder, DateTimeOffset completedAt, CancellationToken cancellationToken) =>
        UpdateAsync(task, state => (true, state.Complete(round, holder, completedAt)), cancellationToken);

    public Task ReleaseAsync(string task, string holder, CancellationToken cancellationToken) =>
        UpdateAsync(task, state => (true, state.Release(holder)), cancellationToken);

    public async Task<DateTimeOffset?> LastCompletedAsync(string task, CancellationToken cancellationToken) =>
        await UpdateAsync(task, state => (state.CompletedAt, state), cancellationToken).ConfigureAwait(false);

    private async Task<T> UpdateAsync<T>(string task, Func<MaintenanceTaskState, (T Result, MaintenanceTaskState Next)> change, CancellationToken cancellationToken)
    {
        using var held = await LockAsync(cancellationToken).ConfigureAwait(false);
        var tasks = Read();
        var before = tasks.GetValueOrDefault(task) ?? MaintenanceTaskState.Empty;
        var (result, next) = change(before);
        if (next != before)
        {
            tasks[task] = next;
            Write(tasks);
        }

        return result;
    }

    private async Task<FileStream> LockAsync(CancellationToken cancellationToken)
    {
        _files.CreateFolder(Path.GetDirectoryName(_lockPath)!);
        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            try
            {
                return _files.Open(_lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
            }
            catch (IOException) when (TimeProvider.System.GetElapsedTime(started) < LockWait)
            {
                // Another instance is in its read-modify-write, which takes microseconds: wait a moment, on the real
                // clock (this is mutual exclusion, not a schedule, so a test's fake clock must not stretch it).
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10)), TimeProvider.System, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new StoreUnavailableException($"The maintenance lock '{_lockPath}' stayed held for {LockWait.TotalSeconds:0} s: {ex.Message}", ex);
            }
        }
    }

    private Dictionary<string, MaintenanceTaskState> Read()
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(statePath), PersistenceJsonContext.Default.DictionaryStringMaintenanceTaskState) ?? [];
        }
        catch (FileNotFoundException)
        {
            return [];
        }
        catch (JsonException)
        {
            // Damaged by hand: the state only decides who runs the next round, so starting afresh costs at most one
            // repeated round, never data.
            return [];
        }
    }

    private void Write(Dictionary<string, MaintenanceTaskState> tasks)
    {
        var temp = statePath + ".tmp";
        _files.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(tasks, PersistenceJsonContext.Default.DictionaryStringMaintenanceTaskState));
        File.Move(temp, statePath, overwrite: true);
    }
}
