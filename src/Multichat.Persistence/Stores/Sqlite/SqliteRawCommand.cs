using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// A statement prepared once on a connection and stepped through SQLite's own API, for the append path. Microsoft.Data.Sqlite
/// creates a data reader and boxes every parameter on each execution; on an append of one message that was a fifth of
/// the time next to the page writes. Parameters are set by their index in <see cref="SqliteStatement.Parameters"/>.
/// </summary>
internal sealed class SqliteRawCommand : IDisposable
{
    private readonly sqlite3 _connection;
    private readonly sqlite3_stmt _statement;
    private readonly int[] _slots;

    public SqliteRawCommand(sqlite3 connection, SqliteStatement statement)
    {
        _connection = connection;

        // Persistent: kept for the connection's life, so SQLite allocates it outside its short-lived lookaside memory.
        Check(raw.sqlite3_prepare_v3(connection, statement.Text, raw.SQLITE_PREPARE_PERSISTENT, out _statement, out _));
        _slots = new int[statement.Parameters.Count];
        for (var i = 0; i < _slots.Length; i++)
        {
            // SQLite numbers named parameters in their order of first appearance, which need not be the declared order.
            _slots[i] = raw.sqlite3_bind_parameter_index(_statement, statement.Parameters[i]);
        }
    }

    /// <summary>Rows the last completed step inserted, updated or deleted.</summary>
    public int Changes => raw.sqlite3_changes(_connection);

    public void Bind(int parameter, string value) => Check(raw.sqlite3_bind_text(_statement, _slots[parameter], value));

    public void Bind(int parameter, long value) => Check(raw.sqlite3_bind_int64(_statement, _slots[parameter], value));

    public void BindNullable(int parameter, string? value) =>
        Check(value is null ? raw.sqlite3_bind_null(_statement, _slots[parameter]) : raw.sqlite3_bind_text(_statement, _slots[parameter], value));

    /// <summary>Runs a statement that returns no row; <see cref="Changes"/> tells what it did.</summary>
    public void Execute()
    {
        var rc = raw.sqlite3_step(_statement);
        raw.sqlite3_reset(_statement);
        if (rc != raw.SQLITE_DONE)
        {
            Check(rc);
        }
    }

    /// <summary>Steps to the first row; <see langword="false"/> when there is none. Read it, then <see cref="Reset"/>.</summary>
    public bool ReadFirst()
    {
        var rc = raw.sqlite3_step(_statement);
        if (rc == raw.SQLITE_ROW)
        {
            return true;
        }

        raw.sqlite3_reset(_statement);
        if (rc != raw.SQLITE_DONE)
        {
            Check(rc);
        }

        return false;
    }

    public bool IsNull(int column) => raw.sqlite3_column_type(_statement, column) == raw.SQLITE_NULL;

    public long Int64(int column) => raw.sqlite3_column_int64(_statement, column);

    public void Reset() => raw.sqlite3_reset(_statement);

    public void Dispose() => _statement.Dispose();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            // The same exception Microsoft.Data.Sqlite throws, so SqliteErrors maps it like any other.
            SqliteException.ThrowExceptionForRC(rc, _connection);
        }
    }
}
