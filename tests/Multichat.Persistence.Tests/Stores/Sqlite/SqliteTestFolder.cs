namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>Private temporary folders for Sqlite tests, under one root so a failed run leaves them in one place.</summary>
internal static class SqliteTestFolder
{
    public static string Root { get; } = Path.Combine(Path.GetTempPath(), "multichat-sqlite-tests");

    public static string PathFor(string key) => Path.Combine(Root, key);

    public static string Create()
    {
        var path = PathFor("t" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static void Delete(string keyOrPath)
    {
        var path = Path.IsPathRooted(keyOrPath) ? keyOrPath : PathFor(keyOrPath);
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder must not fail a test.
        }
    }
}
