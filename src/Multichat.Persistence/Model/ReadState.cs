namespace Multichat.Persistence;

/// <summary>
/// What one participant has read of one session, computed from the stored messages when asked (never a stored
/// counter, so it cannot drift).
/// </summary>
/// <param name="SessionId">The session.</param>
/// <param name="Participant">The participant it is for.</param>
/// <param name="LastReadSequence">
/// The participant's read cursor: the highest of what it marked read, its own latest message (sending a message reads
/// everything before it), and the sequence before the oldest message still stored (trimmed messages count as read).
/// Never moves backwards.
/// </param>
/// <param name="UnreadCount">How many stored messages come after <paramref name="LastReadSequence"/>; none of them is
/// the participant's own.</param>
/// <param name="FirstUnreadSequence">The sequence of the oldest unread message, or <see langword="null"/> when none is unread.</param>
public sealed record ReadState(string SessionId, string Participant, long LastReadSequence, long UnreadCount, long? FirstUnreadSequence);
