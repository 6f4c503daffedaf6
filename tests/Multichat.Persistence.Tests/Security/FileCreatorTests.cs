using FluentAssertions;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Tests.Security;

/// <summary>The helper every file store creates through: what gets a mode, what keeps its own.</summary>
public sealed class FileCreatorTests : IDisposable
{
    private const UnixFileMode Folder0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode File0644 = File0600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "multichat-permission-tests", "c" + Guid.NewGuid().ToString("N")[..12]);

    public FileCreatorTests() => Directory.CreateDirectory(_folder);

    [Fact]
    public void CreateFolder_ThreeLevelsMissing_CreatesEachLevel0700()
    {
        SkipOnWindows();
        var deepest = Path.Combine(_folder, "a", "b", "c") + Path.DirectorySeparatorChar;

        FileCreator.OwnerOnly.CreateFolder(deepest);

        // Directory.CreateDirectory(path, mode) alone would give "a" and "b" the umask's mode.
        foreach (var level in new[] { "a", Path.Combine("a", "b"), Path.Combine("a", "b", "c") })
        {
            Mode(Path.Combine(_folder, level)).Should().Be(Folder0700, level);
        }
    }

    [Fact]
    public void CreateFolder_FolderExistsWithAnotherMode_LeavesItsMode()
    {
        SkipOnWindows();
        var mode = Folder0700 | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
        SetMode(_folder, mode);

        FileCreator.OwnerOnly.CreateFolder(_folder);
        FileCreator.OwnerOnly.CreateFolder(Path.Combine(_folder, "inside"));

        Mode(_folder).Should().Be(mode);
        Mode(Path.Combine(_folder, "inside")).Should().Be(Folder0700);
    }

    [Theory]
    [InlineData(FileMode.CreateNew)]
    [InlineData(FileMode.Create)]
    [InlineData(FileMode.OpenOrCreate)]
    [InlineData(FileMode.Append)]
    public void Open_CreatesTheFile_GivesIt0600(FileMode mode)
    {
        SkipOnWindows();
        var path = Path.Combine(_folder, mode.ToString());

        using (FileCreator.OwnerOnly.Open(path, mode, FileAccess.Write, FileShare.None, 1))
        {
            Mode(path).Should().Be(File0600, "the mode is given by the open that creates it, not after");
        }
    }

    [Theory]
    [InlineData(FileMode.Create)]
    [InlineData(FileMode.OpenOrCreate)]
    [InlineData(FileMode.Append)]
    public void Open_FileExistsWithAnotherMode_LeavesItsMode(FileMode mode)
    {
        SkipOnWindows();
        var path = Path.Combine(_folder, "existing");
        File.WriteAllText(path, "x");
        SetMode(path, File0644);

        FileCreator.OwnerOnly.Open(path, mode, FileAccess.Write, FileShare.None, 1).Dispose();

        Mode(path).Should().Be(File0644);
    }

    [Fact]
    public void OpenHandle_CreatesTheFile_GivesIt0600AndTheHandleOutlivesTheDroppedStream()
    {
        SkipOnWindows();
        var path = Path.Combine(_folder, "handle");

        using var handle = FileCreator.OwnerOnly.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        RandomAccess.Write(handle, "still open"u8, 0);
        Mode(path).Should().Be(File0600);
        File.ReadAllText(path).Should().Be("still open");
    }

    [Fact]
    public void Inherit_CreatesFile_WithTheUmasksMode()
    {
        SkipOnWindows();
        var path = Path.Combine(_folder, "inherit");
        var folder = Path.Combine(_folder, "inherit-folder");
        var expected = Mode(_folder) & ~(UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);

        FileCreator.Inherit.WriteAllBytes(path, "x"u8);
        FileCreator.Inherit.CreateFolder(folder);

        Mode(path).Should().Be(expected, "without a mode a file gets 0666 less the umask, as the test's own folder got 0777 less it");
        Mode(folder).Should().Be(Mode(_folder));
    }

    [Fact]
    public void CreateEmptyFor_FileMissingOrPresent_CreatesIt0600OnlyWhenMissing()
    {
        SkipOnWindows();
        var missing = Path.Combine(_folder, "new.db");
        var present = Path.Combine(_folder, "old.db");
        File.WriteAllText(present, "data");
        SetMode(present, File0644);

        FileCreator.OwnerOnly.CreateEmptyFor(missing);
        FileCreator.OwnerOnly.CreateEmptyFor(present);
        FileCreator.Inherit.CreateEmptyFor(Path.Combine(_folder, "inherit.db"));

        Mode(missing).Should().Be(File0600);
        new FileInfo(missing).Length.Should().Be(0);
        Mode(present).Should().Be(File0644);
        File.ReadAllText(present).Should().Be("data");
        File.Exists(Path.Combine(_folder, "inherit.db")).Should().BeFalse("without a mode the other library creates it, as before");
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static void SkipOnWindows() => Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix permissions; Windows files take their folder's ACL.");

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
}
