using System.Globalization;
using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Tests.Maintenance;

namespace Multichat.Persistence.Tests.Security;

/// <summary>
/// What <see cref="SessionPersistenceOptions.FilePermissions"/> gives the folders and files of the Json and Sqlite
/// stores, their maintenance leases and backups on Unix: a whole run (sessions, messages, a trim, an update, a restore
/// over existing and deleted sessions, a backup and a scheduled backup), then every folder and file under the store and
/// the backup folders is looked at while the store is open. In the maintenance collection: the scheduled backup's rounds
/// would otherwise show up in the tests that count the package's rounds.
/// </summary>
[Collection(MaintenanceGroup.Name)]
public sealed class FilePermissionTests : IDisposable
{
    private const UnixFileMode Folder0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Folder0750 = Folder0700 | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;

    private static readonly DateTimeOffset Start = new(2026, 12, 2, 0, 10, 0, TimeSpan.Zero);

    private readonly string _parent = Path.Combine(Path.GetTempPath(), "multichat-permission-tests", Guid.NewGuid().ToString("N")[..12]);
    private readonly FakeTimeProvider _clock = new(Start);

    public FilePermissionTests() => Directory.CreateDirectory(_parent);

    public static TheoryData<StorageType> FileStores => new() { StorageType.Json, StorageType.Sqlite };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The store's folder: missing, so the store creates it (and its parent "data").</summary>
    private string Root => Path.Combine(_parent, "data", "store");

    /// <summary>The scheduled backups' folder, two levels missing.</summary>
    private string ScheduledFolder => Path.Combine(_parent, "backups", "scheduled");

    /// <summary>The folder of the backup written by hand, missing.</summary>
    private string ManualFolder => Path.Combine(_parent, "manual");

    [Theory]
    [MemberData(nameof(FileStores))]
    public async Task Run_OwnerOnly_EveryFolderCreatedIs0700AndEveryFile0600(StorageType storageType)
    {
        SkipUnlessUmask022();

        await using (var instance = await StartAsync(storageType, FilePermissions.OwnerOnly))
        {
            await RunAsync(instance, storageType, FilePermissions.OwnerOnly);

            var created = Walk(Root).Concat(Walk(Path.Combine(_parent, "data"), recursive: false))
                .Concat(Walk(Path.Combine(_parent, "backups"))).Concat(Walk(ManualFolder)).ToList();
            ExpectStoreFiles(storageType, created);
            created.Should().AllSatisfy(entry => entry.Mode.Should().Be(
                entry.IsFolder ? Folder0700 : File0600, "{0} was created by the library under FilePermissions.OwnerOnly", entry.Path));
            Mode(_parent).Should().NotBe(Folder0700, "the test made it with the umask's mode, so the check above means something");
        }

        Walk(Root).Should().AllSatisfy(entry => entry.Mode.Should().Be(entry.IsFolder ? Folder0700 : File0600, "{0} after closing", entry.Path));
    }

    [Theory]
    [MemberData(nameof(FileStores))]
    public async Task Run_FoldersTheUserMade0750_KeepTheirModeAndWhatIsCreatedInsideIsOwnerOnly(StorageType storageType)
    {
        SkipUnlessUmask022();
        foreach (var folder in new[] { Root, ScheduledFolder, ManualFolder })
        {
            Directory.CreateDirectory(folder);
            SetMode(folder, Folder0750);
        }

        await using var instance = await StartAsync(storageType, FilePermissions.OwnerOnly);
        await RunAsync(instance, storageType, FilePermissions.OwnerOnly);

        foreach (var folder in new[] { Root, ScheduledFolder, ManualFolder })
        {
            Mode(folder).Should().Be(Folder0750, "{0} existed: the library never changes a folder it did not create", folder);
        }

        var inside = Walk(Root).Concat(Walk(ScheduledFolder)).Concat(Walk(ManualFolder)).ToList();
        ExpectStoreFiles(storageType, inside);
        inside.Should().AllSatisfy(entry => entry.Mode.Should().Be(entry.IsFolder ? Folder0700 : File0600, "{0} was created inside", entry.Path));
    }

    [Theory]
    [MemberData(nameof(FileStores))]
    public async Task Run_Inherit_FilesAndFoldersGetTheUmasksMode(StorageType storageType)
    {
        SkipUnlessUmask022();
        var file0644 = File0600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        var folder0755 = Folder0700 | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

        await using var instance = await StartAsync(storageType, FilePermissions.Inherit);
        await RunAsync(instance, storageType, FilePermissions.Inherit);

        var created = Walk(Root).Concat(Walk(Path.Combine(_parent, "backups"))).Concat(Walk(ManualFolder)).ToList();
        ExpectStoreFiles(storageType, created);
        created.Should().AllSatisfy(entry => entry.Mode.Should().Be(
            entry.IsFolder ? folder0755 : file0644, "{0} was created under FilePermissions.Inherit with umask 022", entry.Path));
    }

    [Fact]
    public async Task Restore_FromAStreamThatCannotSeek_SpoolsTheArchiveOwnerOnly()
    {
        SkipUnlessUmask022();
        var archive = new MemoryStream();
        await using (var source = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory }))
        {
            await source.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
            await source.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "a", Content = "secret" }, Ct);
            await source.BackupAsync(archive, Ct);
        }

        await using var target = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        var stream = new ForwardOnlyStream(archive.ToArray());

        await target.RestoreAsync(stream, Ct);

        stream.SpoolModes.Should().NotBeEmpty("the archive was copied to a spool file before the end of the stream was read")
            .And.AllSatisfy(mode => mode.Should().Be(File0600));
        (await target.GetMessagesAsync("s-1", cancellationToken: Ct)).Select(m => m.Content).Should().Equal("secret");
    }

    [Fact]
    public void Validator_UnknownFilePermissions_NamesTheSettingAndTheValues()
    {
        var result = new SessionPersistenceOptionsValidator().Validate(null, new SessionPersistenceOptions { FilePermissions = (FilePermissions)7 });

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("FilePermissions '7'").And.Contain("OwnerOnly").And.Contain("Inherit");
    }

    public void Dispose()
    {
        if (Directory.Exists(_parent))
        {
            Directory.Delete(_parent, recursive: true);
        }
    }

    /// <summary>
    /// The modes asserted here are what umask 022 leaves of 0666/0777 (Inherit) and what it does not hide (OwnerOnly: a
    /// umask of 077 would make any file 0600 and the test pass without the library doing anything).
    /// </summary>
    private static void SkipUnlessUmask022()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix permissions; Windows files take their folder's ACL.");
        var umask = Umask();
        Assert.SkipUnless(umask == Convert.ToInt32("022", 8), $"The test process's umask is {Convert.ToString(umask ?? -1, 8)}; these tests need 022 (the default).");
    }

    /// <summary>The process's umask, from /proc (Linux); null where it cannot be read.</summary>
    private static int? Umask()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
        {
            return null;
        }

        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("Umask:", StringComparison.Ordinal));
        return line is null ? null : Convert.ToInt32(line["Umask:".Length..].Trim(), 8);
    }

    private static UnixFileMode Mode(string path) =>
        OperatingSystem.IsWindows() ? throw new PlatformNotSupportedException() : File.GetUnixFileMode(path) & (UnixFileMode)0x1FF;

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException();
        }

        File.SetUnixFileMode(path, mode);
    }

    /// <summary>Every folder and file under <paramref name="folder"/> (not the folder itself), or only its direct entries.</summary>
    private static IEnumerable<Entry> Walk(string folder, bool recursive = true) => Directory.Exists(folder)
        ? Directory.EnumerateFileSystemEntries(folder, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly)
            .Select(path => new Entry(path, Directory.Exists(path), Mode(path)))
        : [];

    /// <summary>The walk saw the files that matter, so "every file is 0600" is not said of an empty list.</summary>
    private void ExpectStoreFiles(StorageType storageType, List<Entry> entries)
    {
        var names = entries.Select(e => Path.GetRelativePath(_parent, e.Path).Replace('\\', '/')).ToList();
        var root = Path.GetRelativePath(_parent, Root).Replace('\\', '/');
        string[] expected = storageType == StorageType.Json
            ? [$"{root}/format.json", $"{root}/activity.bin", $"{root}/sessions", $"{root}/sessions.count", $"{root}/maintenance.json", $"{root}/maintenance.json.lock"]
            : [$"{root}/sessions.db", $"{root}/sessions.db-wal", $"{root}/sessions.db-shm", $"{root}/sessions.db-maintenance.json", $"{root}/sessions.db-maintenance.json.lock"];
        names.Should().Contain(expected);
        names.Should().Contain(n => n.StartsWith("backups/scheduled/multichat-", StringComparison.Ordinal) && n.EndsWith(".mcbak", StringComparison.Ordinal));
        names.Should().Contain("manual/b.mcbak");
        if (storageType == StorageType.Json)
        {
            foreach (var file in new[] { "session.json", "messages.jsonl", "ids.idx", ".lock", ".want", ".restore.lock" })
            {
                names.Should().Contain(n => n.StartsWith($"{root}/sessions/", StringComparison.Ordinal) && n.EndsWith("/" + file, StringComparison.Ordinal), file);
            }
        }
    }

    private Task<MaintenanceInstance> StartAsync(StorageType storageType, FilePermissions permissions) => MaintenanceInstance.StartAsync(_clock, o =>
    {
        o.StorageType = storageType;
        o.StoragePath = Root;
        o.FilePermissions = permissions;
        o.MaxSessions = 100;
        o.MaxMessagesPerSession = 5;
        o.BackupEnabled = true;
        o.BackupInterval = TimeSpan.FromHours(1);
        o.BackupPath = ScheduledFolder;
    });

    /// <summary>Sessions under a limit, appends past the message limit (trims), a batch, an update, a cleanup, a second
    /// instance's append, a backup, a restore over existing and deleted sessions, and one scheduled backup round.</summary>
    private async Task RunAsync(MaintenanceInstance instance, StorageType storageType, FilePermissions permissions)
    {
        var p = instance.Persistence;
        for (var s = 0; s < 3; s++)
        {
            var id = "s-" + s.ToString(CultureInfo.InvariantCulture);
            await p.CreateSessionAsync(id, ["a", "b"], cancellationToken: Ct);
            for (var m = 0; m < 8; m++)
            {
                await p.AddMessageAsync(new ChatMessage { Id = $"m-{m}", SessionId = id, Sender = "a", Content = "hello " + m }, Ct);
            }

            await p.AddMessagesAsync(id, [new ChatMessage { Id = "b-1", SessionId = id, Sender = "b", Content = "x" }, new ChatMessage { Id = "b-2", SessionId = id, Sender = "b", Content = "y" }], Ct);
        }

        var session = await p.GetSessionAsync("s-0", Ct);
        await p.UpdateSessionAsync(session! with { Title = "t" }, Ct);
        await p.CleanupAsync(Ct);

        // A second store over the same folder, while the first one may still hold the session's lease (Json: .want).
        var options = new SessionPersistenceOptions { StorageType = storageType, StoragePath = Root, FilePermissions = permissions };
        await using (var other = SessionPersistence.Create(options))
        {
            await other.AddMessageAsync(new ChatMessage { Id = "o-1", SessionId = "s-1", Sender = "b", Content = "from another instance" }, Ct);
        }

        var manual = Path.Combine(ManualFolder, "b.mcbak");
        await p.BackupAsync(manual, Ct);
        await p.DeleteSessionAsync("s-2", Ct);
        await p.RestoreAsync(manual, Ct);
        (await p.GetSessionAsync("s-2", Ct)).Should().NotBeNull("the restore created its folder again");

        // A restore deletes ids.idx (it indexed the old messages); the next append builds it again.
        await p.AddMessageAsync(new ChatMessage { Id = "after-restore", SessionId = "s-2", Sender = "a", Content = "z" }, Ct);

        await MaintenanceInstance.AdvanceThroughAsync(_clock, [instance], "backup", Start.AddHours(1));
        instance.Probe.Results.Should().Contain(r => r.Task == "backup" && r.Outcome == "completed");
    }

    private sealed record Entry(string Path, bool IsFolder, UnixFileMode Mode);

    /// <summary>An archive that can only be read forward; at its end it notes the modes of the restore spools in the
    /// temporary folder (the spool is deleted when the restore closes it).</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public List<UnixFileMode> SpoolModes { get; } = [];

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = _inner.Read(buffer, offset, count);
            if (read == 0 && SpoolModes.Count == 0)
            {
                SpoolModes.AddRange(Directory.EnumerateFiles(Path.GetTempPath(), "multichat-restore-*.mcbak").Select(Mode));
            }

            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer, offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var array = new byte[buffer.Length];
            var read = Read(array, 0, array.Length);
            array.AsSpan(0, read).CopyTo(buffer.Span);
            return ValueTask.FromResult(read);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
