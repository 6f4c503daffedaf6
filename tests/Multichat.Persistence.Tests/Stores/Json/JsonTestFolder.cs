using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>A fresh store folder per test, removed afterwards.</summary>
public sealed class JsonTestFolder : IDisposable
{
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
        return TestWorkerProcess.Start("Json", Root, sessionId, idPrefix, count, durability.ToString());
    }

    public void Dispose()
    {
        if (Directory.Exists(Parent))
        {
            Directory.Delete(Parent, recursive: true);
        }
    }
}
