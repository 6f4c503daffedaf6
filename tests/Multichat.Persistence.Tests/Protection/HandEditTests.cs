using System.Text.Json.Nodes;
using FluentAssertions;
using Microsoft.Data.Sqlite;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>A ciphertext moved by hand to another message in the backend itself (a Json file edit, an SQL UPDATE)
/// fails with <see cref="DecryptionFailedException"/> naming where it was found, and leaves the rest readable.</summary>
public sealed class HandEditTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "multichat-handedit-tests", Guid.NewGuid().ToString("N")[..12]);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Json_ContentCopiedToAnotherLine_FailsWithTheTypedError()
    {
        var options = Options(StorageType.Json);
        await WriteTwoAsync(options);
        var file = Directory.EnumerateFiles(_root, "messages.jsonl", SearchOption.AllDirectories).Single();
        var lines = File.ReadAllLines(file);
        var first = JsonNode.Parse(lines[0])!;
        var second = JsonNode.Parse(lines[1])!;
        second["content"] = first["content"]!.GetValue<string>();
        lines[1] = second.ToJsonString();
        File.WriteAllLines(file, lines);

        await ExpectMovedAsync(options);
    }

    [Fact]
    public async Task Sqlite_ContentCopiedByUpdate_FailsWithTheTypedError()
    {
        var options = Options(StorageType.Sqlite);
        await WriteTwoAsync(options);
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_root, "sessions.db")};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            var update = connection.CreateCommand();
            update.CommandText = "UPDATE messages SET content = (SELECT content FROM messages WHERE id = 'm-1') WHERE id = 'm-2'";
            (await update.ExecuteNonQueryAsync(Ct)).Should().Be(1);
        }

        await ExpectMovedAsync(options);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    internal static async Task WriteTwoAsync(SessionPersistenceOptions options)
    {
        await using var store = SessionPersistence.Create(options);
        await store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await store.AddMessagesAsync(
            "s-1", [new() { Id = "m-1", SessionId = "s-1", Sender = "Agent-1", Content = "first" }, new() { Id = "m-2", SessionId = "s-1", Sender = "Agent-1", Content = "second" }], Ct);
    }

    internal static async Task ExpectMovedAsync(SessionPersistenceOptions options)
    {
        await using var store = SessionPersistence.Create(options);
        var read = () => store.GetMessagesAsync("s-1", 10, Ct);

        var failure = (await read.Should().ThrowAsync<DecryptionFailedException>()).Which;
        failure.MessageId.Should().Be("m-2");
        failure.SessionId.Should().Be("s-1");
        failure.Message.Should().NotContain("first");
        (await store.GetMessagesAsync("s-1", new MessageQuery { BeforeSequence = 2 }, Ct)).Messages.Single().Content.Should().Be("first");
    }

    private SessionPersistenceOptions Options(StorageType storageType)
    {
        var options = new SessionPersistenceOptions { StorageType = storageType, StoragePath = _root };
        ProtectionSettings.Encrypt(options);
        return options;
    }
}
