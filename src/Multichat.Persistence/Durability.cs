namespace Multichat.Persistence;

/// <summary>How far an acknowledged write has travelled before the call returns.</summary>
public enum Durability
{
    /// <summary>Handed to the operating system: survives a crash or kill of the process, not a power loss. Default.</summary>
    Normal = 0,

    /// <summary>Flushed to the disk (fsync): survives a power loss too, at a cost per write.</summary>
    Full = 1,
}
