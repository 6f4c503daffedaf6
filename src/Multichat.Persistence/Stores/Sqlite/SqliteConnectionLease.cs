using System.Globalization;
using Microsoft.Data.Sqlite;
using Multichat.Persistence.Internal;
using SQLitePCL;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// One open connection and the statements prepared on it. A lease is used by one operation at a time: the store keeps
/// one for writing (behind its write gate) and a small pool for reading, so no call prepares SQL or checks the schema.
/// </summary>
internal sealed class SqliteConnectionLease : IDisposable
{
    /// <summary>
    /// How long SQLite's own busy handler blocks the thread (sleeping 1, 2, 5, 10 ms …) when another connection holds a
    /// lock. Readers rarely meet one in WAL mode (recovery, checkpoints); the writer waits longer without blocking a
    /// thread: <see cref="TryBeginImmediate"/> reports the lock taken and the store awaits and retries.
    /// </summary>
    public const int ReaderBusyMilliseconds = 1000;

    /// <inheritdoc cref="ReaderBusyMilliseconds"/>
    public const int WriterBusyMilliseconds = 20;

    private static readonly SqliteStatement Rollback = new("ROLLBACK");

    private readonly Dictionary<SqliteStatement, SqliteCommand> _commands = [];
    private readonly Dictionary<SqliteStatement, SqliteRawCommand> _rawCommands = [];
    private sqlite3_stmt? _begin;
    private sqlite3_stmt? _commit;

    private SqliteConnectionLease(SqliteConnection connection)
    {
        Connection = connection;
    }

    public SqliteConnection Connection { get; }

    /// <summary>The fault-injection tests' hook, set on the writer's lease only (see <see cref="SqliteFaultPoints"/>).</summary>
    public FaultInjection? Faults { get; set; }

    /// <summary>Whether a transaction is open on this connection.</summary>
    public bool InTransaction => raw.sqlite3_get_autocommit(Connection.Handle) == 0;

    /// <summary>Opens a connection with the per-connection settings every connection of the store shares.</summary>
    public static SqliteConnectionLease Open(string connectionString, Durability durability, bool readOnly) =>
        Open(connectionString, durability, readOnly, Timeout.InfiniteTimeSpan);

    /// <summary>
    /// Opens a connection whose busy handler never blocks longer than <paramref name="busyTimeout"/> (the store's
    /// whole wait for a lock), so a short timeout is not overrun by the handler's own slice.
    /// </summary>
    public static SqliteConnectionLease Open(string connectionString, Durability durability, bool readOnly, TimeSpan busyTimeout)
    {
        var slice = readOnly ? ReaderBusyMilliseconds : WriterBusyMilliseconds;
        var busyMilliseconds = busyTimeout == Timeout.InfiniteTimeSpan ? slice : (int)Math.Clamp(busyTimeout.TotalMilliseconds, 1, slice);
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = string.Create(
                CultureInfo.InvariantCulture,
                $"""
                PRAGMA busy_timeout = {busyMilliseconds};
                PRAGMA foreign_keys = ON;
                PRAGMA synchronous = {(durability == Durability.Full ? "FULL" : "NORMAL")};
                PRAGMA cache_size = -16384;
                PRAGMA query_only = {(readOnly ? 1 : 0)};
                """);
            command.ExecuteNonQuery();
            return new SqliteConnectionLease(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The command for <paramref name="statement"/>, prepared on first use; set its parameters by index.</summary>
    public SqliteCommand Get(SqliteStatement statement)
    {
        if (!_commands.TryGetValue(statement, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = statement.Text;

            // Let SQLite's busy handler do the waiting; Microsoft.Data.Sqlite's own retry (150 ms sleeps) stops after 1 s.
            command.CommandTimeout = 1;
            foreach (var name in statement.Parameters)
            {
                command.Parameters.Add(new SqliteParameter(name, DBNull.Value));
            }

            command.Prepare();
            _commands.Add(statement, command);
        }

        return command;
    }

    /// <summary>The statement prepared for the raw API on first use (see <see cref="SqliteRawCommand"/>).</summary>
    public SqliteRawCommand GetRaw(SqliteStatement statement)
    {
        if (!_rawCommands.TryGetValue(statement, out var command))
        {
            command = new SqliteRawCommand(Connection.Handle ?? throw new InvalidOperationException("The connection is closed."), statement);
            _rawCommands.Add(statement, command);
        }

        return command;
    }

    /// <summary>
    /// Starts a write transaction, taking the database's write lock now rather than at the first write, so the reads
    /// that follow see the latest commit and no other process can commit in between. <see langword="false"/> when
    /// another connection holds the lock beyond <see cref="WriterBusyMilliseconds"/>.
    /// </summary>
    /// <remarks>Stepped through the raw API: Microsoft.Data.Sqlite would retry a busy statement itself, sleeping
    /// 150 ms on the calling thread each time, where the store wants to await instead.</remarks>
    public bool TryBeginImmediate()
    {
        _begin ??= PrepareRaw("BEGIN IMMEDIATE");
        var rc = raw.sqlite3_step(_begin);
        raw.sqlite3_reset(_begin);
        if (rc == raw.SQLITE_DONE)
        {
            return true;
        }

        if ((rc & 0xff) is raw.SQLITE_BUSY or raw.SQLITE_LOCKED)
        {
            return false;
        }

        SqliteException.ThrowExceptionForRC(rc, Connection.Handle);
        return false;
    }

    /// <summary>Commits the open transaction, if any (through the raw API, as <see cref="TryBeginImmediate"/>).</summary>
    public void CommitIfOpen()
    {
        if (raw.sqlite3_get_autocommit(Connection.Handle) != 0)
        {
            return;
        }

        _commit ??= PrepareRaw("COMMIT");
        var rc = raw.sqlite3_step(_commit);
        raw.sqlite3_reset(_commit);
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, Connection.Handle);
        }
    }

    /// <summary>Rolls back the open transaction, if SQLite has not already done so (it does after an interrupt or I/O error).</summary>
    public void RollbackQuietly() => TryRollback();

    /// <summary>
    /// <see cref="RollbackQuietly"/>, telling why the transaction could not be rolled back (it is still open then), or
    /// <see langword="null"/> when none is open any more.
    /// </summary>
    public Exception? TryRollback()
    {
        try
        {
            if (Connection.State == System.Data.ConnectionState.Open && raw.sqlite3_get_autocommit(Connection.Handle) == 0)
            {
                Faults?.Reach(SqliteFaultPoints.WriteBeforeRollback);
                Get(Rollback).ExecuteNonQuery();
            }

            return null;
        }
        catch (Exception ex) when (ex is SqliteException or IOException)
        {
            // After a failed step the original failure is what the caller needs to see; the next write discards a
            // transaction left open here.
            return ex;
        }
    }

    /// <summary>Makes a cancellation interrupt whatever statement this connection runs.</summary>
    public CancellationTokenRegistration InterruptOn(CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => raw.sqlite3_interrupt(((SqliteConnection)state!).Handle), Connection)
            : default;

    private sqlite3_stmt PrepareRaw(string sql)
    {
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(Connection.Handle, sql, out var statement), Connection.Handle);
        return statement;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
        foreach (var command in _rawCommands.Values)
        {
            command.Dispose();
        }

        _rawCommands.Clear();
        _begin?.Dispose();
        _begin = null;
        _commit?.Dispose();
        _commit = null;
        Connection.Dispose();
    }
}
