using Microsoft.Data.Sqlite;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>A write transaction that stays open while its work awaits, for a restore that streams an archive into it.</summary>
internal sealed partial class SqliteDatabase
{
    /// <summary>
    /// Runs <paramref name="work"/> in one <c>BEGIN IMMEDIATE</c> transaction on the writer connection, as
    /// <see cref="WriteAsync"/> does, but lets it await between its statements (to read the rows it writes from a
    /// stream) and commits only when it completed and the token has not fired. The write gate is held throughout, so
    /// no other call of this store touches the writer connection meanwhile: this store's other writes wait at the gate
    /// and other processes' at <c>BEGIN IMMEDIATE</c>, each within its own busy timeout; readers (their own
    /// connections, WAL) see the last commit until this one commits.
    /// </summary>
    /// <remarks>
    /// Only SQLite's failures are mapped to the store's exceptions: what the work's source throws (a damaged archive, an
    /// I/O error while reading it, a cancellation) is the caller's to see as it is, after the rollback. The work must not
    /// write through this store: such a write would wait for the gate this call holds.
    /// </remarks>
    public async Task WriteStreamingAsync<TState>(
        SqliteWriteSteps write, TState state, Func<SqliteConnectionLease, TState, CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        var writer = await EnterWriterAsync(write, cancellationToken).ConfigureAwait(false);
        try
        {
            using (writer.InterruptOn(cancellationToken))
            {
                await work(writer, state, cancellationToken).ConfigureAwait(false);

                // A token that fired while the work awaited its source interrupted no statement: never commit then.
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    _faults?.Reach(write.BeforeCommit);
                    writer.CommitIfOpen();
                    _faults?.Reach(write.AfterCommit);
                }
                catch (IOException ex)
                {
                    // Only the commit's own I/O is the store's failure; the source's IOException passes as it is.
                    writer.RollbackQuietly();
                    throw Failure(ex, write.Operation, cancellationToken);
                }
            }
        }
        catch (SqliteException ex)
        {
            writer.RollbackQuietly();
            throw Failure(ex, write.Operation, cancellationToken);
        }
        catch
        {
            writer.RollbackQuietly();
            throw;
        }
        finally
        {
            _writeGate.Release();
        }
    }
}
