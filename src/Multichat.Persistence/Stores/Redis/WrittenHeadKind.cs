namespace Multichat.Persistence.Stores.Redis;

/// <summary>What a replica's answer must show for a session this instance wrote (see <see cref="WrittenHead"/>).</summary>
internal enum WrittenHeadKind
{
    /// <summary>The session, at least at the remembered sequence and version (and of the remembered creation, when known).</summary>
    Present,

    /// <summary>No session: this instance deleted it.</summary>
    Absent,

    /// <summary>
    /// Nothing a replica shows can be checked (a trim removes messages without moving sequence or version, a write
    /// failed midway); the primary answers until this instance's next append or update in the session, whose sequence and
    /// version a replica then has to reach (replication applies writes in order, so it then has the trim too).
    /// </summary>
    PrimaryUntilNextWrite,

    /// <summary>
    /// Nothing a replica shows can be checked, nor will be after later appends or updates (an import or restore may
    /// have moved sequence and version back): the primary answers until this instance creates or deletes the session.
    /// </summary>
    Primary,
}
