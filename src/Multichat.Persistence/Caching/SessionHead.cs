namespace Multichat.Persistence.Caching;

/// <summary>
/// What identifies a session's stored state: equal heads mean the same session record and the same set of stored
/// messages. Stored messages never change, so within one life of a session (one <see cref="Epoch"/>) the message set
/// is told by <see cref="LastSequence"/> (appends and imports raise it) and <see cref="MessageCount"/> (trims lower it),
/// and the record by <see cref="Version"/> plus those two.
/// </summary>
/// <param name="Epoch">Differs between two lives of one session id: each create, import and replacement (restore)
/// starts a new one, so a deleted and re-created session, with the same counts and version, still has another head.
/// Random (see <see cref="SessionEpoch"/>); 0 for a session stored before epochs existed.</param>
/// <param name="Version">The session record's concurrency token.</param>
/// <param name="LastSequence">The highest sequence ever assigned in the session.</param>
/// <param name="MessageCount">How many messages are stored now.</param>
internal readonly record struct SessionHead(long Epoch, long Version, long LastSequence, long MessageCount);
