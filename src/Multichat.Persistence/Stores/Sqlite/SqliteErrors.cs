using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>Turns SQLite failures into the library's typed exceptions, keeping the original as the inner exception.</summary>
internal static class SqliteErrors
{
    // Primary result codes (https://www.sqlite.org/rescode.html); the extended code's low byte is the primary one.
    private const int Error = 1;
    private const int Busy = 5;
    private const int Locked = 6;
    private const int Interrupt = 9;
    private const int Corrupt = 11;
    private const int Constraint = 19;
    private const int Format = 24;
    private const int NotADatabase = 26;

    /// <summary>Whether another connection holds the lock: worth waiting and retrying.</summary>
    public static bool IsBusy(SqliteException exception) => (exception.SqliteErrorCode & 0xff) is Busy or Locked;

    public static Exception Map(Exception exception, string operation, string dataSource, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            // Interrupted by the token, or given up waiting for a lock because the token fired meanwhile.
            case SqliteException sqlite when cancellationToken.IsCancellationRequested && ((sqlite.SqliteErrorCode & 0xff) == Interrupt || IsBusy(sqlite)):
                return new OperationCanceledException($"{operation} on the Sqlite store was canceled.", sqlite, cancellationToken);
            case SqliteException sqlite when IsBusy(sqlite):
                return new StoreUnavailableException(
                    $"{operation} failed: the Sqlite database '{dataSource}' stayed locked by another writer beyond the busy timeout. Retry later; an append retried with the same message id is never duplicated.",
                    sqlite);
            case SqliteException sqlite when (sqlite.SqliteErrorCode & 0xff) is Corrupt or NotADatabase or Format:
                return new StoreCorruptedException(
                    $"{operation} failed: '{dataSource}' is damaged or not a SQLite database ({sqlite.Message}). Restore it from a backup, or check it with `sqlite3 {Path.GetFileName(dataSource)} 'PRAGMA integrity_check'`.",
                    sqlite);
            case SqliteException sqlite when (sqlite.SqliteErrorCode & 0xff) == Constraint:
                // The store's own writes never violate a key; a conflict means stored rows and counters disagree, or an
                // imported archive repeats a message id.
                return new StoreCorruptedException(
                    $"{operation} failed: the data conflicts with what '{dataSource}' holds ({sqlite.Message}). Check the file with `PRAGMA integrity_check`, or the archive being imported.",
                    sqlite);
            case SqliteException sqlite when (sqlite.SqliteErrorCode & 0xff) == Error:
                // Our SQL is fixed and tested, so a generic error means the schema is not the one this version wrote.
                return new StoreCorruptedException(
                    $"{operation} failed: the database '{dataSource}' does not have the schema this version of Multichat.Persistence expects ({sqlite.Message}).",
                    sqlite);
            case SqliteException sqlite:
                return new StoreUnavailableException(
                    $"{operation} failed: the Sqlite database '{dataSource}' could not be used ({sqlite.Message}). Check the file, its folder's permissions and free disk space.",
                    sqlite);
            case JsonException or InvalidCastException or FormatException:
                return new StoreCorruptedException(
                    $"{operation} failed: a row of '{dataSource}' holds a value this version cannot read ({exception.Message}).", exception);
            case IOException or UnauthorizedAccessException:
                return new StoreUnavailableException(
                    $"{operation} failed: the Sqlite database '{dataSource}' or its folder is not accessible ({exception.Message}).", exception);
            default:
                return exception;
        }
    }
}
