using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>A fresh store folder per test, removed afterwards; and the TestWorker made startable from the tests' folder.</summary>
public sealed class JsonTestFolder : IDisposable
{
    private static readonly Lazy<bool> WorkerCopied = new(CopyWorkerBesideTests);

    public JsonTestFolder()
    {
        Parent = Path.Combine(Path.GetTempPath(), "multichat-json-tests", "p" + Guid.NewGuid().ToString("N")[..12]);
        Root = Path.Combine(Parent, "store");
        Directory.CreateDirectory(Parent);
    }

    /// <summary>A folder that holds only <see cref="Root"/>, to check nothing is written beside it.</summary>
    public string Parent { get; }

    public string Root { get; }

    public SessionPersistenceOptions Options(Durability durability = Durability.Normal) =>
        new() { StorageType = StorageType.Json, StoragePath = Root, Durability = durability };

    public string FolderOf(string sessionId) => Path.Combine(Root, "sessions", Multichat.Persistence.Stores.Json.JsonSessionKey.For(sessionId));

    public string MessagesOf(string sessionId) => Path.Combine(FolderOf(sessionId), "messages.jsonl");

    /// <summary>Starts a worker appending to a session of this folder; see the TestWorker's Program.cs.</summary>
    public TestWorkerProcess StartWorker(string sessionId, string idPrefix, string count, Durability durability = Durability.Normal)
    {
        _ = WorkerCopied.Value;
        return TestWorkerProcess.Start("Json", Root, sessionId, idPrefix, count, durability.ToString());
    }

    public void Dispose()
    {
        if (Directory.Exists(Parent))
        {
            Directory.Delete(Parent, recursive: true);
        }
    }

    // The test project references the worker with ReferenceOutputAssembly=false and Private=false, so its dll is built
    // but not copied beside the tests where TestWorkerProcess looks for it. Copy it from the worker's own output.
    private static bool CopyWorkerBesideTests()
    {
        if (File.Exists(TestWorkerProcess.WorkerDll))
        {
            return true;
        }

        var testsOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testsOutput.Name;
        var configuration = testsOutput.Parent!.Name;
        var workerOutput = Path.Combine(
            testsOutput.Parent.Parent!.Parent!.Parent!.FullName, "Multichat.Persistence.TestWorker", "bin", configuration, framework);
        foreach (var file in Directory.EnumerateFiles(workerOutput, "Multichat.Persistence.TestWorker.*"))
        {
            File.Copy(file, Path.Combine(AppContext.BaseDirectory, Path.GetFileName(file)), overwrite: true);
        }

        return File.Exists(TestWorkerProcess.WorkerDll);
    }
}
