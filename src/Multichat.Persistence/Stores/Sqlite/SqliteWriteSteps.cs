namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// One kind of write transaction: its name for messages and the fault points around its transaction (see
/// <see cref="SqliteFaultPoints"/>). One static instance per kind, so a write allocates nothing for them.
/// </summary>
/// <param name="Operation">The operation's name in error messages and logs.</param>
/// <param name="BeforeBegin">Reached before each <c>BEGIN IMMEDIATE</c>.</param>
/// <param name="BeforeCommit">Reached when the work is done and its transaction still open.</param>
/// <param name="AfterCommit">Reached once the transaction committed, before the caller is answered.</param>
internal sealed record SqliteWriteSteps(string Operation, string BeforeBegin, string BeforeCommit, string AfterCommit)
{
    public static readonly SqliteWriteSteps Append = new(
        "AppendMessages", SqliteFaultPoints.AppendBeforeBegin, SqliteFaultPoints.AppendBeforeCommit, SqliteFaultPoints.AppendAfterCommit);

    public static readonly SqliteWriteSteps Trim = new(
        "TrimMessages", SqliteFaultPoints.TrimBeforeBegin, SqliteFaultPoints.TrimBeforeCommit, SqliteFaultPoints.TrimAfterCommit);

    public static readonly SqliteWriteSteps Create = new(
        "CreateSession", SqliteFaultPoints.CreateBeforeBegin, SqliteFaultPoints.CreateBeforeCommit, SqliteFaultPoints.CreateAfterCommit);

    public static readonly SqliteWriteSteps Update = new(
        "UpdateSession", SqliteFaultPoints.UpdateBeforeBegin, SqliteFaultPoints.UpdateBeforeCommit, SqliteFaultPoints.UpdateAfterCommit);

    public static readonly SqliteWriteSteps Delete = new(
        "DeleteSession", SqliteFaultPoints.DeleteBeforeBegin, SqliteFaultPoints.DeleteBeforeCommit, SqliteFaultPoints.DeleteAfterCommit);

    public static readonly SqliteWriteSteps ImportSession = new(
        "ImportSession", SqliteFaultPoints.ImportSessionBeforeBegin, SqliteFaultPoints.ImportSessionBeforeCommit, SqliteFaultPoints.ImportSessionAfterCommit);

    public static readonly SqliteWriteSteps ImportMessages = new(
        "ImportMessages", SqliteFaultPoints.ImportMessagesBeforeBegin, SqliteFaultPoints.ImportMessagesBeforeCommit, SqliteFaultPoints.ImportMessagesAfterCommit);

    public static readonly SqliteWriteSteps ReplaceSession = new(
        "ReplaceSession", SqliteFaultPoints.ReplaceBeforeBegin, SqliteFaultPoints.ReplaceBeforeCommit, SqliteFaultPoints.ReplaceAfterCommit);

    public static readonly SqliteWriteSteps MarkRead = new(
        "MarkRead", SqliteFaultPoints.MarkReadBeforeBegin, SqliteFaultPoints.MarkReadBeforeCommit, SqliteFaultPoints.MarkReadAfterCommit);
}
