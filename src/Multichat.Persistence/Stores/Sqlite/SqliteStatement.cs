namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// One SQL statement of the store and the names of its parameters, in the order callers set them by index.
/// Compared by reference: each connection prepares every statement once and keeps it (see <see cref="SqliteConnectionLease"/>).
/// </summary>
internal sealed class SqliteStatement(string text, params string[] parameters)
{
    public string Text { get; } = text;

    public IReadOnlyList<string> Parameters { get; } = parameters;
}
