using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>Finds files of the repository (fixtures, the test worker's build output) from the test binaries.</summary>
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

    private static readonly Lock DeployGate = new();

    public static string Fixture(string name) =>
        Path.Combine(RepositoryRoot.Value, "tests", "Multichat.Persistence.Tests", "Stores", "Sqlite", "Fixtures", name);

    /// <summary>
    /// Makes sure <see cref="TestWorkerProcess.WorkerDll"/> exists. The test project references the worker with
    /// ReferenceOutputAssembly="false", which builds it but copies nothing beside the tests; until that is fixed, copy
    /// the worker's entry files from its own build output (its dependencies are the library's, already here).
    /// </summary>
    public static void DeployWorker()
    {
        lock (DeployGate)
        {
            if (File.Exists(TestWorkerProcess.WorkerDll))
            {
                return;
            }

            // .../tests/Multichat.Persistence.Tests/bin/{Configuration}/{tfm}/ → the worker's bin/{Configuration}/{tfm}/.
            var tfmFolder = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var source = Path.Combine(
                RepositoryRoot.Value, "tests", "Multichat.Persistence.TestWorker", "bin", tfmFolder.Parent!.Name, tfmFolder.Name);
            foreach (var file in new[] { "Multichat.Persistence.TestWorker.dll", "Multichat.Persistence.TestWorker.runtimeconfig.json", "Multichat.Persistence.TestWorker.deps.json" })
            {
                File.Copy(Path.Combine(source, file), Path.Combine(AppContext.BaseDirectory, file), overwrite: true);
            }
        }
    }
}
