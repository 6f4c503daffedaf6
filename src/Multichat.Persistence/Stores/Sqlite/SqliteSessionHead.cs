namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// A session's counters and activity as a write finds them: the session row (as of its last write that was not an
/// append) completed by the newest message. Appends since that write added the sequences above the row's
/// <c>last_seq</c>, gapless, so they also add to its count.
/// </summary>
/// <param name="RowLastSequence">The row's last_seq.</param>
/// <param name="RowCount">The row's message_count.</param>
/// <param name="RowUpdatedTicks">The row's updated_at.</param>
/// <param name="NewestSequence">The newest stored message's sequence, 0 when there is none.</param>
/// <param name="NewestAppendedTicks">The newest message's append time; null when there is none or it was imported.</param>
internal readonly record struct SqliteSessionHead(
    long RowLastSequence, long RowCount, long RowUpdatedTicks, long NewestSequence, long? NewestAppendedTicks)
{
    public long LastSequence => Math.Max(RowLastSequence, NewestSequence);

    public long Count => RowCount + Math.Max(0, NewestSequence - RowLastSequence);

    /// <summary>The key of the session's <c>session_activity</c> row (SqliteSql's activity expression, in C#).</summary>
    public long ActivityTicks => ActivityAfterAppend(NewestAppendedTicks ?? RowUpdatedTicks);

    /// <summary>The activity once the newest message is one appended at <paramref name="appendedTicks"/>.</summary>
    public long ActivityAfterAppend(long appendedTicks) => Math.Max(RowUpdatedTicks, appendedTicks);
}
