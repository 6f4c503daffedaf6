namespace Multichat.Persistence;

/// <summary>What a restore does with a session of the archive that the store already holds.</summary>
public enum RestoreMode
{
    /// <summary>The archive's session replaces the stored one, atomically; sessions not in the archive stay.</summary>
    Replace = 0,

    /// <summary>The stored session is kept and the archive's copy skipped.</summary>
    Skip = 1,

    /// <summary>The restore is refused with <see cref="SessionAlreadyExistsException"/> before anything is written.</summary>
    Fail = 2,
}
