using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// The store's open connections to one database file and how work runs on them: one writer connection behind an
/// async gate (SQLite admits one writer anyway), each write one <c>BEGIN IMMEDIATE</c> transaction retried while
/// another process holds the lock, and a small pool of reader connections. The schema is checked and migrated once,
/// when the writer first opens.
/// </summary>
internal sealed partial class SqliteDatabase : IAsyncDisposable
{
    private const int MaxIdleReaders = 4;
    private const int ConstraintError = 19; // SQLITE_CONSTRAINT

    private readonly string _connectionString;
    private readonly Durability _durability;
    private readonly TimeSpan _busyTimeout;
    private readonly FaultInjection? _faults;
    private readonly FileCreator _files;
    private readonly bool _createsFile;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _openGate = new(1, 1);
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly Stack<SqliteConnectionLease> _idleReaders = new();
    private SqliteConnectionLease? _writer;
    private volatile bool _opened;
    private volatile bool _disposed;
    private StoreCorruptedException? _damage;

    /// <param name="connectionString">Names the file; Microsoft.Data.Sqlite's pooling already off.</param>
    /// <param name="dataSource">The file (or URI), for messages.</param>
    /// <param name="durability">Whether commits are fsynced.</param>
    /// <param name="busyTimeout">How long a call waits for another process's lock, in all.</param>
    /// <param name="faults">The fault-injection tests' hook (see <see cref="SqliteFaultPoints"/>); null outside them.</param>
    /// <param name="files">Creates the folder and the database file with the configured permissions.</param>
    /// <param name="createsFile">Whether the connection string lets SQLite create the file (<c>Mode=ReadWriteCreate</c>).</param>
    /// <param name="logger">For busy retries and migrations.</param>
    public SqliteDatabase(
        string connectionString, string dataSource, Durability durability, TimeSpan busyTimeout, FaultInjection? faults, FileCreator files, bool createsFile, ILogger logger)
    {
        _faults = faults;
        _files = files;
        _createsFile = createsFile;
        _connectionString = connectionString;
        DataSource = dataSource;
        _durability = durability;
        _busyTimeout = busyTimeout;
        _logger = logger;
    }

    /// <summary>The database file (or URI) the connections open.</summary>
    public string DataSource { get; }

    /// <summary>
    /// The first damage a call of this instance met (a damaged page, a file that is not a database, a schema that is
    /// not ours), or <see langword="null"/>. Health reports it until the store is reopened: SQLite finds damage only
    /// where a statement reads, so a later health probe on undamaged pages would otherwise say Healthy.
    /// </summary>
    public StoreCorruptedException? Damage => Volatile.Read(ref _damage);

    /// <summary>Runs <paramref name="work"/> in one <c>BEGIN IMMEDIATE</c> transaction on the writer connection.</summary>
    public async Task<T> WriteAsync<TState, T>(
        SqliteWriteSteps write, TState state, Func<SqliteConnectionLease, TState, T> work, CancellationToken cancellationToken)
    {
        var writer = await EnterWriterAsync(write, cancellationToken).ConfigureAwait(false);
        try
        {
            using (writer.InterruptOn(cancellationToken))
            {
                var result = work(writer, state);

                // The work may have rolled back itself (an append that must take its slower path).
                if (writer.InTransaction)
                {
                    _faults?.Reach(write.BeforeCommit);
                    writer.CommitIfOpen();
                    _faults?.Reach(write.AfterCommit);
                }

                return result;
            }
        }
        catch (Exception ex)
        {
            writer.RollbackQuietly();
            var mapped = Failure(ex, write.Operation, cancellationToken);
            if (ReferenceEquals(mapped, ex))
            {
                throw;
            }

            throw mapped;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>
    /// Everything a write does before its work: opens the store if needed, takes this store's write gate (the caller
    /// releases it) and begins <c>BEGIN IMMEDIATE</c>, all within one deadline from the moment of the call — a caller
    /// queued behind others of this store (each waiting for another process's lock) waits the busy timeout once, not
    /// once per caller ahead of it.
    /// </summary>
    private async Task<SqliteConnectionLease> EnterWriterAsync(SqliteWriteSteps write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var deadline = SqliteDeadline.Start(_busyTimeout);
        await EnsureOpenAsync(write.Operation, deadline, cancellationToken).ConfigureAwait(false);
        if (!await _writeGate.WaitAsync(deadline.Remaining, cancellationToken).ConfigureAwait(false))
        {
            throw LockTimeout(write.Operation, cancellationToken);
        }

        try
        {
            ObjectDisposedException.ThrowIf(_disposed, typeof(SqliteStore));
            var writer = _writer!;
            if (writer.InTransaction)
            {
                // A failed write whose ROLLBACK failed too left its transaction open: discard it, or BEGIN fails for
                // every later write of this instance.
                writer.RollbackQuietly();
            }

            await BeginWithinAsync(writer, write, deadline, cancellationToken).ConfigureAwait(false);
            return writer;
        }
        catch
        {
            _writeGate.Release();
            throw;
        }
    }

    /// <summary><c>BEGIN IMMEDIATE</c>, awaiting a back-off while another process holds the lock, until the deadline.</summary>
    private async Task BeginWithinAsync(SqliteConnectionLease writer, SqliteWriteSteps write, SqliteDeadline deadline, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryBegin(writer, write, cancellationToken))
            {
                return;
            }

            // Another process holds the write lock: wait without holding a thread, then try again.
            if (deadline.IsExpired)
            {
                throw LockTimeout(write.Operation, cancellationToken);
            }

            SqliteLog.BusyRetry(_logger, write.Operation, attempt);
            await Task.Delay(deadline.Cap(BusyBackoff(attempt)), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs <paramref name="work"/> on a pooled reader connection (WAL: readers never wait for the writer).</summary>
    public async Task<T> ReadAsync<TState, T>(
        string operation, TState state, Func<SqliteConnectionLease, TState, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var deadline = SqliteDeadline.Start(_busyTimeout);
        await EnsureOpenAsync(operation, deadline, cancellationToken).ConfigureAwait(false);
        SqliteConnectionLease? lease = null;
        try
        {
            lease = RentReader();
            while (true)
            {
                try
                {
                    using (lease.InterruptOn(cancellationToken))
                    {
                        return work(lease, state);
                    }
                }
                catch (SqliteException ex) when (ShouldRetry(ex, deadline, cancellationToken))
                {
                    // Only while another connection recovers or checkpoints the WAL; reads change nothing, so retry.
                }
            }
        }
        catch (Exception ex)
        {
            var mapped = Failure(ex, operation, cancellationToken);
            if (ReferenceEquals(mapped, ex))
            {
                throw;
            }

            throw mapped;
        }
        finally
        {
            if (lease is not null)
            {
                ReturnReader(lease);
            }
        }
    }

    private bool TryBegin(SqliteConnectionLease writer, SqliteWriteSteps write, CancellationToken cancellationToken)
    {
        try
        {
            _faults?.Reach(write.BeforeBegin);
            return writer.TryBeginImmediate();
        }
        catch (Exception ex) when (ex is SqliteException or IOException)
        {
            throw Failure(ex, write.Operation, cancellationToken);
        }
    }

    /// <summary>The typed exception for <paramref name="exception"/>; damage is remembered for health.</summary>
    private Exception Failure(Exception exception, string operation, CancellationToken cancellationToken)
    {
        var mapped = SqliteErrors.Map(exception, operation, DataSource, cancellationToken);

        // A constraint conflict is usually the caller's data (an archive repeating a message id), not the file's.
        var conflict = exception is SqliteException sqlite && (sqlite.SqliteErrorCode & 0xff) == ConstraintError;
        if (mapped is StoreCorruptedException damage && !conflict)
        {
            Interlocked.CompareExchange(ref _damage, damage, null);
        }

        return mapped;
    }

    /// <summary>1, 2, 4 … up to 16 ms, with jitter so waiting processes do not retry in lockstep.</summary>
    private static TimeSpan BusyBackoff(int attempt) =>
        TimeSpan.FromMilliseconds((1 << Math.Min(attempt - 1, 4)) + (Random.Shared.NextDouble() * 4));

    private static bool ShouldRetry(SqliteException exception, SqliteDeadline deadline, CancellationToken cancellationToken) =>
        SqliteErrors.IsBusy(exception) && !cancellationToken.IsCancellationRequested && !deadline.IsExpired;

    /// <summary>The caller's deadline passed while another connection (of this store or another process) held the lock.</summary>
    private Exception LockTimeout(string operation, CancellationToken cancellationToken) =>
        SqliteErrors.Map(new SqliteException("database is locked", 5), operation, DataSource, cancellationToken);

    /// <summary>
    /// A reader connection outside the pool, for a caller that keeps it open (the change poller). The store is opened
    /// first, so the file is created with its permissions and schema by the writer, never by this connection.
    /// </summary>
    public async Task<SqliteConnectionLease> OpenDedicatedReaderAsync(string operation, CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(operation, SqliteDeadline.Start(_busyTimeout), cancellationToken).ConfigureAwait(false);
        ObjectDisposedException.ThrowIf(_disposed, typeof(SqliteStore));
        return SqliteConnectionLease.Open(_connectionString, _durability, readOnly: true, _busyTimeout);
    }

    private SqliteConnectionLease RentReader()
    {
        ObjectDisposedException.ThrowIf(_disposed, typeof(SqliteStore));
        lock (_idleReaders)
        {
            if (_idleReaders.TryPop(out var idle))
            {
                return idle;
            }
        }

        return SqliteConnectionLease.Open(_connectionString, _durability, readOnly: true, _busyTimeout);
    }

    private void ReturnReader(SqliteConnectionLease lease)
    {
        lock (_idleReaders)
        {
            if (!_disposed && _idleReaders.Count < MaxIdleReaders)
            {
                _idleReaders.Push(lease);
                return;
            }
        }

        lease.Dispose();
    }

    private ValueTask EnsureOpenAsync(string operation, SqliteDeadline deadline, CancellationToken cancellationToken) =>
        _opened ? default : OpenAsync(operation, deadline, cancellationToken);

    /// <summary>Opens the writer and brings the schema up to date, once per store instance (never per call).</summary>
    private async ValueTask OpenAsync(string operation, SqliteDeadline deadline, CancellationToken cancellationToken)
    {
        if (!await _openGate.WaitAsync(deadline.Remaining, cancellationToken).ConfigureAwait(false))
        {
            throw LockTimeout(operation, cancellationToken);
        }

        try
        {
            ObjectDisposedException.ThrowIf(_disposed, typeof(SqliteStore));
            if (_opened)
            {
                return;
            }

            for (var attempt = 1; ; attempt++)
            {
                SqliteConnectionLease? writer = null;
                try
                {
                    CreateFiles();
                    writer = SqliteConnectionLease.Open(_connectionString, _durability, readOnly: false, _busyTimeout);
                    writer.Faults = _faults;
                    SqliteSchema.Initialize(writer, DataSource, _logger);
                    if (_disposed)
                    {
                        // Disposed while we opened: do not leave the file open behind the caller's back.
                        writer.Dispose();
                        throw new ObjectDisposedException(nameof(SqliteStore));
                    }

                    _writer = writer;
                    _opened = true;
                    return;
                }
                catch (SqliteException ex) when (ShouldRetry(ex, deadline, cancellationToken))
                {
                    // Another process creates or migrates the schema right now; it will be done in a moment.
                    writer?.Dispose();
                }
                catch (Exception ex)
                {
                    writer?.Dispose();
                    var mapped = Failure(ex, "Opening the store", cancellationToken);
                    if (ReferenceEquals(mapped, ex))
                    {
                        throw;
                    }

                    throw mapped;
                }

                await Task.Delay(deadline.Cap(BusyBackoff(attempt)), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _openGate.Release();
        }
    }

    private void CreateFiles()
    {
        if (DataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var file = Path.GetFullPath(DataSource);
        var folder = Path.GetDirectoryName(file);
        if (!string.IsNullOrEmpty(folder))
        {
            _files.CreateFolder(folder);
        }

        // Created empty with the configured mode before SQLite opens it (SQLite would create it 0644 less the umask, and
        // takes an empty file for a new database): SQLite gives the -wal, -shm and -journal files the database file's mode.
        if (_createsFile)
        {
            _files.CreateEmptyFor(file);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Wait for a write in flight; closing the last connection checkpoints the WAL into the database file.
        await _writeGate.WaitAsync().ConfigureAwait(false);
        IOException? fault = null;
        try
        {
            // A failure injected here must not keep the file open: the connections close whatever it says.
            _faults?.Reach(SqliteFaultPoints.CloseBeforeCheckpoint);
        }
        catch (IOException ex)
        {
            fault = ex;
        }

        try
        {
            _writer?.Dispose();
            _writer = null;
        }
        finally
        {
            _writeGate.Release();
        }

        lock (_idleReaders)
        {
            while (_idleReaders.TryPop(out var reader))
            {
                reader.Dispose();
            }
        }

        try
        {
            _faults?.Reach(SqliteFaultPoints.CloseAfterCheckpoint);
        }
        catch (IOException ex)
        {
            fault ??= ex;
        }

        if (fault is not null)
        {
            throw Failure(fault, "Closing the store", CancellationToken.None);
        }
    }
}
