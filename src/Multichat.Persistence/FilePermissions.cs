namespace Multichat.Persistence;

/// <summary>
/// Which Unix permissions the folders and files the library creates get: the Json store's folders and files, the
/// Sqlite database (and so its <c>-wal</c>, <c>-shm</c> and <c>-journal</c> files), the maintenance lease files and
/// backup archives. Only what the library creates is affected: an existing folder or file keeps its mode. Ignored on
/// Windows, where new files take the folder's inherited ACL. See docs/storage-formats.md, "File permissions".
/// </summary>
public enum FilePermissions
{
    /// <summary>Folders <c>0700</c>, files <c>0600</c>: only the owning user can list or read them, whatever the process's
    /// umask allows (a stricter umask still applies). Given when the file is created, so no other user can open it in
    /// between. Default.</summary>
    OwnerOnly = 0,

    /// <summary>As for any file the process creates: the mode the process's umask (or a folder's default ACL) gives,
    /// typically <c>0755</c> folders and <c>0644</c> files with umask <c>022</c>. For sharing a store with a group
    /// through the umask or ACLs.</summary>
    Inherit = 1,
}
