using Microsoft.Win32.SafeHandles;

namespace Multichat.Persistence.Internal;

/// <summary>
/// Creates the folders and files of the file stores, their leases and backups with the permissions
/// <see cref="FilePermissions"/> names. The mode is given by the system call that creates the file or folder
/// (<c>open(O_CREAT, mode)</c>, <c>mkdir(mode)</c>), never by a chmod after it, so there is no moment another user could
/// open it; and only to what it creates: an existing folder or file is opened as it is and keeps the mode its owner gave
/// it. Without a mode (<see cref="FilePermissions.Inherit"/>, and always on Windows) every call is the plain .NET call.
/// </summary>
internal sealed class FileCreator
{
    /// <summary>Folders <c>0700</c>, files <c>0600</c>.</summary>
    public static readonly FileCreator OwnerOnly = new(
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, UnixFileMode.UserRead | UnixFileMode.UserWrite);

    /// <summary>The process's umask decides, as for any file it creates.</summary>
    public static readonly FileCreator Inherit = new(null, null);

    private readonly UnixFileMode? _folderMode;
    private readonly UnixFileMode? _fileMode;

    private FileCreator(UnixFileMode? folderMode, UnixFileMode? fileMode)
    {
        _folderMode = folderMode;
        _fileMode = fileMode;
    }

    public static FileCreator For(FilePermissions permissions) => permissions == FilePermissions.Inherit ? Inherit : OwnerOnly;

    /// <summary>Creates <paramref name="path"/> and any missing folder above it, each with the folder mode; folders that
    /// exist are left as they are.</summary>
    public void CreateFolder(string path)
    {
        if (_folderMode is not { } mode || OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (Directory.Exists(full))
        {
            return;
        }

        // Directory.CreateDirectory(path, mode) gives the mode to the last folder only: missing parents would get the
        // umask's, so each missing level is created here, from the top down.
        if (Path.GetDirectoryName(full) is { Length: > 0 } parent)
        {
            CreateFolder(parent);
        }

        Directory.CreateDirectory(full, mode);
    }

    /// <summary>A <see cref="FileStream"/> as <c>new FileStream(path, mode, access, share, bufferSize, options)</c> opens
    /// it; a file it creates gets the file mode.</summary>
    public FileStream Open(
        string path, FileMode mode, FileAccess access, FileShare share, int bufferSize, FileOptions options = FileOptions.None, long preallocationSize = 0)
    {
        var settings = new FileStreamOptions
        {
            Mode = mode, Access = access, Share = share, BufferSize = bufferSize, Options = options, PreallocationSize = preallocationSize,
        };
        if (_fileMode is { } create && Creates(mode) && !OperatingSystem.IsWindows())
        {
            settings.UnixCreateMode = create;
        }

        return new FileStream(path, settings);
    }

    /// <summary>A handle as <see cref="File.OpenHandle"/> opens it; a file it creates gets the file mode.</summary>
    public SafeFileHandle OpenHandle(
        string path, FileMode mode, FileAccess access, FileShare share, FileOptions options = FileOptions.None, long preallocationSize = 0)
    {
        if (_fileMode is null || !Creates(mode) || OperatingSystem.IsWindows())
        {
            return File.OpenHandle(path, mode, access, share, options, preallocationSize);
        }

        // File.OpenHandle takes no mode, FileStreamOptions does: the same open (flock included), through a stream that is
        // dropped. The handle is the caller's: a FileStream closes its handle only when disposed, never when finalized.
        return Open(path, mode, access, share, bufferSize: 0, options, preallocationSize).SafeFileHandle;
    }

    /// <summary>Writes <paramref name="bytes"/> as <see cref="File.WriteAllBytes(string, byte[])"/> does (replacing the
    /// file's content); a file it creates gets the file mode.</summary>
    public void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        using var file = Open(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
        file.Write(bytes);
    }

    /// <summary>
    /// Creates <paramref name="path"/> empty with the file mode when it is missing, for a file another library creates
    /// and fills (SQLite's database: SQLite itself would create it <c>0644</c> less the umask). Nothing when the file
    /// exists, or when there is no mode to give (the other library then creates it, as without this).
    /// </summary>
    public void CreateEmptyFor(string path)
    {
        if (_fileMode is null || OperatingSystem.IsWindows() || File.Exists(path))
        {
            return;
        }

        try
        {
            Open(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0).Dispose();
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first.
        }
    }

    private static bool Creates(FileMode mode) => mode is not (FileMode.Open or FileMode.Truncate);
}
