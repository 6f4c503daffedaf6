using Microsoft.Data.Sqlite;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>Finds the repository's test fixtures from the test binaries, and checks a store folder's database.</summary>
internal static class SqliteTestFiles
{
    private static readonly Lazy<string> RepositoryRoot = new(() =>
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Multichat.Persistence.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No Multichat.Persistence.sln above {AppContext.BaseDirectory}.");
    });

    public static string Fixture(string name) =>
        Path.Combine(RepositoryRoot.Value, "tests", "Multichat.Persistence.Tests", "Stores", "Sqlite", "Fixtures", name);

    /// <summary>What <c>PRAGMA integrity_check</c> says of <c>{folder}/sessions.db</c> ("ok" when whole).</summary>
    public static string IntegrityCheck(string folder)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(folder, "sessions.db"),
            Pooling = false,
        }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        return (string)command.ExecuteScalar()!;
    }
}
