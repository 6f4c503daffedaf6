namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>Finds the repository's test fixtures from the test binaries.</summary>
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
}
