using System.Security.Cryptography;
using FluentAssertions;
using Microsoft.Data.Sqlite;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Pipeline;
using Multichat.Persistence.Stores.Sqlite;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>The file itself: creation, pragmas, versioning and migration, damaged and foreign files.</summary>
public sealed class SqliteSchemaTests : IDisposable
{
    private static readonly string[] CliLocations = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"];

    private readonly string _folder = SqliteTestFolder.Create();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => Path.Combine(_folder, "sessions.db");

    [Fact]
    public async Task Open_MissingFolder_CreatesItAndAWalDatabaseOfTheCurrentVersion()
    {
        var nested = Path.Combine(_folder, "a", "b");
        await using (var store = Open(nested))
        {
            await store.CreateSessionAsync("s-1", ["p"], cancellationToken: Ct);
        }

        var path = Path.Combine(nested, "sessions.db");
        File.Exists(path).Should().BeTrue();
        Pragma(path, "journal_mode").Should().Be("wal");
        Pragma(path, "user_version").Should().Be(SqliteSchema.CurrentVersion);
        Pragma(path, "application_id").Should().Be(SqliteSchema.ApplicationId);
    }

    [Fact]
    public async Task Open_ConnectionString_UsesThatFileInsteadOfStoragePath()
    {
        var file = Path.Combine(_folder, "custom.db");
        await using (var store = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Sqlite,
            StoragePath = Path.Combine(_folder, "unused"),
            ConnectionString = $"Data Source={file}",
        }))
        {
            await store.CreateSessionAsync("s-1", ["p"], cancellationToken: Ct);
        }

        Query(file, "SELECT session_id FROM sessions").Should().Equal("s-1");
        Directory.Exists(Path.Combine(_folder, "unused")).Should().BeFalse();
    }

    [Theory]
    [InlineData("Data Source=:memory:")]
    [InlineData("Data Source=x;Mode=Memory")]
    [InlineData("Data Source=")]
    public void Create_InMemoryConnectionString_ThrowsNotSupportedNamingTheAlternative(string connectionString)
    {
        var act = () => SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Sqlite, ConnectionString = connectionString });

        act.Should().Throw<NotSupportedException>().WithMessage("*StorageType.Memory*");
    }

    [Theory]
    [InlineData(Durability.Normal, 1L, false)]
    [InlineData(Durability.Full, 2L, false)]
    [InlineData(Durability.Full, 2L, true)]
    public void OpenConnection_Durability_SetsSynchronousForeignKeysAndBusyTimeout(Durability durability, long synchronous, bool readOnly)
    {
        using var lease = SqliteConnectionLease.Open($"Data Source={DatabasePath};Pooling=False", durability, readOnly);

        Scalar(lease.Connection, "PRAGMA synchronous").Should().Be(synchronous);
        Scalar(lease.Connection, "PRAGMA foreign_keys").Should().Be(1L);
        Scalar(lease.Connection, "PRAGMA query_only").Should().Be(readOnly ? 1L : 0L);
        Scalar(lease.Connection, "PRAGMA busy_timeout").Should().Be(
            (long)(readOnly ? SqliteConnectionLease.ReaderBusyMilliseconds : SqliteConnectionLease.WriterBusyMilliseconds));
    }

    [Theory]
    [InlineData(false, 5, 5L)]
    [InlineData(true, 200, 200L)]
    [InlineData(true, 60_000, (long)SqliteConnectionLease.ReaderBusyMilliseconds)]
    public void OpenConnection_StoreBusyTimeout_CapsSqlitesBusyHandler(bool readOnly, int busyTimeoutMilliseconds, long expected)
    {
        using var lease = SqliteConnectionLease.Open(
            $"Data Source={DatabasePath};Pooling=False", Durability.Normal, readOnly, TimeSpan.FromMilliseconds(busyTimeoutMilliseconds));

        Scalar(lease.Connection, "PRAGMA busy_timeout").Should().Be(expected);
    }

    [Fact]
    public async Task Open_SchemaVersionOneFixture_MigratesAndKeepsEverything()
    {
        File.Copy(SqliteTestFiles.Fixture("schema-v1.db"), DatabasePath);

        await using (var store = Open(_folder))
        {
            var planning = await store.GetSessionAsync("planning", Ct);
            planning.Should().BeEquivalentTo(new ChatSession
            {
                SessionId = "planning",
                Participants = ["Alice", "Bob"],
                Title = "Sprint planning",
                Metadata = new Dictionary<string, string> { ["team"] = "core" },
                CreatedAt = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero),
                UpdatedAt = new DateTimeOffset(2026, 1, 1, 12, 0, 3, TimeSpan.Zero),
                Version = 3,
                LastSequence = 3,
                MessageCount = 2,
            });
            var messages = await store.GetMessagesAsync("planning", 10, Ct);
            messages.Select(m => (m.Sequence, m.Id, m.Content)).Should().Equal((2L, "m-2", "Hello Bob"), (3L, "m-3", "Hi all ✓"));
            messages[1].Timestamp.Should().Be(new DateTimeOffset(2026, 1, 1, 12, 0, 3, TimeSpan.Zero).AddTicks(1));
            messages[1].Metadata.Should().Equal(new Dictionary<string, string> { ["model"] = "x" });
            messages[0].Recipient.Should().Be("Bob");

            // The participant rows v2 added were filled from the v1 JSON column.
            (await store.ListSessionsAsync(new SessionQuery { Participant = "Bob" }, Ct)).Sessions.Select(s => s.SessionId)
                .Should().Equal("planning", "'; DROP TABLE sessions; --");
            (await store.ListSessionsAsync(new SessionQuery { Participant = "Carol" }, Ct)).Sessions.Should().ContainSingle();
            (await store.AddMessageAsync(new ChatMessage { Id = "m-4", SessionId = "planning", Sender = "Alice", Content = "next" }, Ct))
                .Sequence.Should().Be(4);
        }

        Pragma(DatabasePath, "user_version").Should().Be(SqliteSchema.CurrentVersion);
        Pragma(DatabasePath, "integrity_check").Should().Be("ok");
        Query(DatabasePath, "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%' ORDER BY name")
            .Should().Equal("ix_session_participants_participant");
        Query(DatabasePath, "SELECT session_id FROM session_activity ORDER BY updated_at DESC")
            .Should().Equal(["planning", "'; DROP TABLE sessions; --"], "v3 gave every session its activity row, and the append moved it");
    }

    [Fact]
    public async Task Open_SchemaVersionFourFixture_MigratesAndItsSessionsReportEpochZeroUntilTheirNextLife()
    {
        File.Copy(SqliteTestFiles.Fixture("schema-v4.db"), DatabasePath);

        await using (var store = Open(_folder))
        {
            var heads = (ISessionHeadSource)SessionStorePipeline.Unwrap(store.Store);
            (await heads.GetHeadAsync("alpha", Ct)).Should().Be(new SessionHead(Epoch: 0, Version: 2, LastSequence: 2, MessageCount: 2));
            (await heads.GetHeadAsync("beta", Ct)).Should().Be(new SessionHead(Epoch: 0, Version: 1, LastSequence: 0, MessageCount: 0));

            // Writes within a life keep its epoch; a new life of the id gets a new one.
            var alpha = (await store.GetSessionAsync("alpha", Ct))!;
            await store.UpdateSessionAsync(alpha with { Title = "Renamed" }, Ct);
            await store.AddMessageAsync(new ChatMessage { Id = "m-3", SessionId = "alpha", Sender = "Alice", Content = "again" }, Ct);
            (await heads.GetHeadAsync("alpha", Ct)).Should().Be(new SessionHead(Epoch: 0, Version: 3, LastSequence: 3, MessageCount: 3));
            await store.DeleteSessionAsync("beta", Ct);
            await store.CreateSessionAsync("beta", ["Bob"], cancellationToken: Ct);
            (await heads.GetHeadAsync("beta", Ct))!.Value.Epoch.Should().NotBe(0);
        }

        Pragma(DatabasePath, "user_version").Should().Be(SqliteSchema.CurrentVersion);
        Pragma(DatabasePath, "integrity_check").Should().Be("ok");
        Query(DatabasePath, "SELECT session_id FROM sessions WHERE epoch = 0").Should().Equal("alpha");
    }

    [Fact]
    public async Task Open_SchemaVersionFiveFixture_MigratesKeepingEverythingAndCursorsGoWithTheirSession()
    {
        File.Copy(SqliteTestFiles.Fixture("schema-v5.db"), DatabasePath);

        await using (var store = Open(_folder))
        {
            var heads = (ISessionHeadSource)SessionStorePipeline.Unwrap(store.Store);
            (await heads.GetHeadAsync("alpha", Ct)).Should().Be(new SessionHead(Epoch: 7001, Version: 2, LastSequence: 2, MessageCount: 2));
            (await heads.GetHeadAsync("beta", Ct)).Should().Be(new SessionHead(Epoch: 7002, Version: 1, LastSequence: 0, MessageCount: 0));
            (await store.GetMessagesAsync("alpha", 50, Ct)).Select(m => (m.Sequence, m.Id, m.Sender, m.Content))
                .Should().Equal((1L, "m-1", "Alice", "Hello"), (2L, "m-2", "Bob", "Hi"));

            // No cursor was stored before v6: the read states come from the messages alone.
            (await store.GetReadStateAsync("alpha", "Alice", Ct)).Should().Be(new ReadState("alpha", "Alice", 1, 1, 2));
            (await store.MarkReadAsync("alpha", "Alice", 2, Ct)).Should().Be(new ReadState("alpha", "Alice", 2, 0, null));
            await store.MarkReadAsync("beta", "Bob", 0, Ct);
            await store.DeleteSessionAsync("beta", Ct);
        }

        Pragma(DatabasePath, "user_version").Should().Be(SqliteSchema.CurrentVersion).And.Be(6L);
        Pragma(DatabasePath, "integrity_check").Should().Be("ok");
        Query(DatabasePath, "SELECT session_id || ':' || participant || ':' || seq FROM read_cursors").Should().Equal("alpha:Alice:2");
        Query(DatabasePath, "SELECT session_id FROM sessions ORDER BY session_id").Should().Equal("alpha");
    }

    [Fact]
    public async Task Open_NewerSchemaVersion_ThrowsStoreCorruptedAndLeavesTheFileUnchanged()
    {
        await using (var store = Open(_folder))
        {
            await store.CreateSessionAsync("s-1", ["p"], cancellationToken: Ct);
        }

        Execute(DatabasePath, "PRAGMA user_version = 99");
        var before = Hash(DatabasePath);

        await using (var store = Open(_folder))
        {
            var act = () => store.GetSessionAsync("s-1", Ct);

            var thrown = await act.Should().ThrowAsync<StoreCorruptedException>();
            thrown.Which.Message.Should().Contain("99").And.Contain("newer");
        }

        Hash(DatabasePath).Should().Equal(before);
        Pragma(DatabasePath, "user_version").Should().Be(99L);
    }

    [Fact]
    public async Task Open_NotADatabase_ThrowsStoreCorruptedWithTheSqliteError()
    {
        await File.WriteAllTextAsync(DatabasePath, new string('x', 8192), Ct);
        await using var store = Open(_folder);

        var act = () => store.GetSessionAsync("s-1", Ct);

        (await act.Should().ThrowAsync<StoreCorruptedException>()).Which.InnerException.Should().BeOfType<SqliteException>();
    }

    [Fact]
    public async Task Open_DatabaseOfAnotherApplication_ThrowsStoreCorruptedAndChangesNothing()
    {
        Execute(DatabasePath, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')");
        await using (var store = Open(_folder))
        {
            var act = () => store.CreateSessionAsync("s-1", ["p"], cancellationToken: Ct);

            (await act.Should().ThrowAsync<StoreCorruptedException>()).Which.Message.Should().Contain("another application");
        }

        Query(DatabasePath, "SELECT name FROM sqlite_master WHERE type = 'table'").Should().Equal("notes");
    }

    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(2L, 0L)] // a version number this library also used: still not ours without its application_id
    [InlineData(0L, 0x12345678L)]
    public async Task Open_DatabaseOfAnotherApplication_LeavesItByteForByteUnchangedWithoutAWal(long userVersion, long applicationId)
    {
        // Issue 9, item 4: the store switched such a file to WAL before it refused it.
        Execute(DatabasePath, $"CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine'); PRAGMA user_version = {userVersion}; PRAGMA application_id = {applicationId}");
        var before = await File.ReadAllBytesAsync(DatabasePath, Ct);
        Exception? thrown;
        await using (var store = Open(_folder))
        {
            thrown = await Record.ExceptionAsync(() => store.CreateSessionAsync("s-1", ["p"], cancellationToken: Ct));
        }

        (await File.ReadAllBytesAsync(DatabasePath, Ct)).Should().Equal(before);
        File.Exists(DatabasePath + "-wal").Should().BeFalse();
        File.Exists(DatabasePath + "-shm").Should().BeFalse();
        File.Exists(DatabasePath + "-journal").Should().BeFalse();
        thrown.Should().BeOfType<StoreCorruptedException>().Which.Message.Should().Contain("another application").And.Contain("not changed");
    }

    [Fact]
    public async Task Open_EmptyFile_IsOursToInitialise()
    {
        await File.WriteAllBytesAsync(DatabasePath, [], Ct);
        await using (var store = Open(_folder))
        {
            await store.CreateSessionAsync("s-1", ["p"], cancellationToken: Ct);
        }

        Pragma(DatabasePath, "user_version").Should().Be(SqliteSchema.CurrentVersion);
        Pragma(DatabasePath, "journal_mode").Should().Be("wal");
    }

    [Fact]
    public async Task GetSession_DamagedPages_ThrowsStoreCorruptedAndHealthIsUnhealthy()
    {
        await using (var store = Open(_folder))
        {
            await store.CreateSessionAsync("s-1", ["p"], cancellationToken: Ct);
            await store.AddMessagesAsync("s-1", Enumerable.Range(0, 200).Select(i => new ChatMessage { Id = $"m{i}", SessionId = "s-1", Sender = "p", Content = new string('c', 500) }), Ct);
        }

        // Everything after the header page (the schema) is overwritten: every table's pages are garbage now.
        await using (var file = new FileStream(DatabasePath, FileMode.Open, FileAccess.Write))
        {
            file.Position = 4096;
            var garbage = new byte[file.Length - 4096];
            new Random(7).NextBytes(garbage);
            await file.WriteAsync(garbage, Ct);
        }

        await using var damaged = Open(_folder);
        var read = () => damaged.GetMessagesAsync("s-1", 50, Ct);

        (await read.Should().ThrowAsync<StoreCorruptedException>()).Which.InnerException.Should().BeOfType<SqliteException>();
        (await damaged.CheckHealthAsync(Ct)).Status.Should().Be(StoreHealthStatus.Unhealthy);
    }

    [Fact]
    public async Task GetMessages_StoredTimeOutsideTheCalendar_ThrowsStoreCorruptedAndHealthRemembersIt()
    {
        // Found by SqliteCorruptionCampaignTests: a flipped byte in a timestamp gave ArgumentOutOfRangeException, and
        // health, which reads only the header, said Healthy after a call had met the damage.
        await using (var store = Open(_folder))
        {
            await store.CreateSessionAsync("s-1", ["p"], cancellationToken: Ct);
            await store.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "p", Content = "x" }, Ct);
        }

        Execute(DatabasePath, "UPDATE messages SET timestamp = -5");
        await using var damaged = Open(_folder);
        (await damaged.CheckHealthAsync(Ct)).Status.Should().Be(StoreHealthStatus.Healthy, "no call has read the damaged row yet");

        var read = () => damaged.GetMessagesAsync("s-1", 10, Ct);

        (await read.Should().ThrowAsync<StoreCorruptedException>()).Which.InnerException.Should().BeOfType<FormatException>();
        var health = await damaged.CheckHealthAsync(Ct);
        health.Status.Should().Be(StoreHealthStatus.Unhealthy);
        health.Exception.Should().BeOfType<StoreCorruptedException>();
    }

    [Fact]
    public async Task Sqlite3Cli_ReadsTheTables()
    {
        var cli = CliLocations.FirstOrDefault(File.Exists);
        Assert.SkipWhen(cli is null, "The sqlite3 command-line shell is not installed.");
        await using (var store = Open(_folder))
        {
            await store.CreateSessionAsync("s-1", ["Alice", "Bob"], cancellationToken: Ct);
            await store.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "Alice", Content = "Hello" }, Ct);
        }

        var info = new System.Diagnostics.ProcessStartInfo(cli!) { RedirectStandardOutput = true };
        info.ArgumentList.Add("-readonly");
        info.ArgumentList.Add(DatabasePath);
        info.ArgumentList.Add("SELECT m.seq, m.id, m.sender, m.content, p.participant FROM messages m JOIN session_participants p USING (session_id) ORDER BY p.position");
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);

        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal("1|m-1|Alice|Hello|Alice", "1|m-1|Alice|Hello|Bob");
    }

    public void Dispose() => SqliteTestFolder.Delete(_folder);

    internal static SessionPersistence Open(string folder) =>
        SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Sqlite, StoragePath = folder });

    private static SqliteConnection Connect(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static object? Pragma(string path, string pragma)
    {
        using var connection = Connect(path);
        return Scalar(connection, $"PRAGMA {pragma}");
    }

    private static void Execute(string path, string sql)
    {
        using var connection = Connect(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static List<string> Query(string path, string sql)
    {
        using var connection = Connect(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static byte[] Hash(string path) => SHA256.HashData(File.ReadAllBytes(path));
}
