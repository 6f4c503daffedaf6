using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// What the parts of one Json store instance share: its folders, clock, logger, durability, lock timeout, activity board,
/// damage and mapping counts, how new files and folders are created, and how <c>session.json</c> and the other small
/// files are read and written.
/// Handed to the per-session state and the lease and listing parts instead of the store itself, so none of them calls
/// back up into the store.
/// </summary>
internal sealed class JsonStoreContext(
    string root,
    TimeProvider clock,
    ILogger logger,
    bool flushToDisk,
    TimeSpan lockTimeout,
    JsonActivityBoard board,
    FaultInjection? faults = null,
    FileCreator? files = null)
{
    public static readonly JsonStoreJsonContext Json = new(new JsonSerializerOptions
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    });

    private long _damaged;
    private int _mappedIds;

    public string Root { get; } = root;

    public string SessionsFolder { get; } = Path.Combine(root, "sessions");

    public TimeProvider Clock { get; } = clock;

    public ILogger Logger { get; } = logger;

    /// <summary>Whether writes are flushed to the disk before they are acknowledged (<see cref="Durability.Full"/>).</summary>
    public bool FlushToDisk { get; } = flushToDisk;

    /// <summary>The one budget for every wait for a lock (JsonLockTimeout).</summary>
    public TimeSpan LockTimeout { get; } = lockTimeout;

    public JsonActivityBoard Board { get; } = board;

    /// <summary>The fault-injection tests' hook (see <see cref="JsonFaultPoints"/>); null outside them.</summary>
    public FaultInjection? Faults { get; } = faults;

    /// <summary>Creates every folder and file of the store with the configured permissions (FilePermissions).</summary>
    public FileCreator Files { get; } = files ?? FileCreator.OwnerOnly;

    /// <summary>Damaged message lines (and unreadable records) skipped so far by this instance.</summary>
    public long Damaged => Interlocked.Read(ref _damaged);

    /// <summary>Id files this instance keeps mapped.</summary>
    public int MappedIds => Volatile.Read(ref _mappedIds);

    public static string NewIncarnation() => Guid.NewGuid().ToString("N");

    public void ReportDamaged(long offset, int length)
    {
        // Log the first damaged lines only: a badly damaged file read page after page must not flood the log.
        if (Interlocked.Increment(ref _damaged) <= 100)
        {
            JsonStoreLog.DamagedLineSkipped(Logger, offset, length);
        }
    }

    public void ReportTornTail(long bytes) => JsonStoreLog.TornTailRepaired(Logger, bytes);

    public void ReportDamagedTail(long offset, int length)
    {
        Interlocked.Increment(ref _damaged);
        JsonStoreLog.DamagedTailSetAside(Logger, offset, length);
    }

    public void ReportLostSequences(long lastInFile, long highest)
    {
        Interlocked.Increment(ref _damaged);
        JsonStoreLog.SequencesLost(Logger, lastInFile, highest);
    }

    public void CountMappedIds(int delta) => Interlocked.Add(ref _mappedIds, delta);

    public JsonSessionDocument? ReadDocument(string path)
    {
        byte[] bytes;
        try
        {
            // Shared for delete, so a writer in another process can replace the file while we read it (on Windows too).
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            bytes = new byte[file.Length];
            file.ReadExactly(bytes);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or EndOfStreamException)
        {
            return null;
        }

        JsonSessionDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(bytes, Json.JsonSessionDocument);
        }
        catch (JsonException ex)
        {
            throw DamagedRecord($"is not a valid record ({ex.Message})", ex);
        }

        var problem = document is null ? "holds no record" : document.Problem();
        return problem is null ? document : throw DamagedRecord(problem, null);
    }

    /// <summary>Counts and logs a damaged <c>session.json</c>; the error is that session's alone.</summary>
    public StoreCorruptedException DamagedRecord(string problem, Exception? inner)
    {
        if (Interlocked.Increment(ref _damaged) <= 100)
        {
            JsonStoreLog.DamagedRecord(Logger, problem);
        }

        return new StoreCorruptedException(
            $"A session.json file of the Json store at '{Root}' {problem}; restore it from a backup or delete that session's folder. The other sessions are not affected.", inner);
    }

    /// <summary>Counts and logs a damaged <c>reads.json</c>, which the caller sets aside: the session itself is served.</summary>
    public void ReportDamagedReads(string problem)
    {
        if (Interlocked.Increment(ref _damaged) <= 100)
        {
            JsonStoreLog.DamagedReadsSetAside(Logger, problem);
        }
    }

    /// <summary>Replaces a session's <c>reads.json</c> atomically, as <see cref="WriteDocument"/> does the record (temp file, flush per the durability, rename).</summary>
    public void WriteReads(string path, byte[] bytes) => Replace(
        path, bytes, JsonFaultPoints.ReadsBeforeWrite, JsonFaultPoints.ReadsAfterWrite, JsonFaultPoints.ReadsAfterFlush, JsonFaultPoints.ReadsAfterRename);

    public void WriteDocument(string path, JsonSessionDocument document) => Replace(
        path,
        JsonSerializer.SerializeToUtf8Bytes(document, Json.JsonSessionDocument),
        JsonFaultPoints.DocumentBeforeWrite,
        JsonFaultPoints.DocumentAfterWrite,
        JsonFaultPoints.DocumentAfterFlush,
        JsonFaultPoints.DocumentAfterRename);

    /// <summary>Replaces a small file atomically: a temp file written and flushed per the durability, then renamed over
    /// it; each step a named fault point of the file's own.</summary>
    private void Replace(string path, byte[] bytes, string beforeWrite, string afterWrite, string afterFlush, string afterRename)
    {
        var temp = path + ".tmp";
        Faults?.Reach(beforeWrite);
        using (var file = Files.Open(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1))
        {
            file.Write(bytes);
            file.WriteByte((byte)'\n');
            Faults?.Reach(afterWrite);
            file.Flush(FlushToDisk);
            Faults?.Reach(afterFlush);
        }

        File.Move(temp, path, overwrite: true);
        Faults?.Reach(afterRename);
    }
}
