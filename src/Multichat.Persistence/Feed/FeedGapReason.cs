namespace Multichat.Persistence;

/// <summary>Why a change feed could not deliver every message after its cursor.</summary>
public enum FeedGapReason
{
    /// <summary>Messages after the cursor were removed (trimmed, by a limit or a call) before the watcher read them.</summary>
    MessagesRemoved,

    /// <summary>The session was deleted and created again, or replaced by a restore or import: its sequences start over.</summary>
    SessionReplaced,
}
