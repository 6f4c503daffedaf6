namespace Multichat.Persistence;

/// <summary>The order in which a <see cref="MessageQuery"/> walks a session's messages.</summary>
public enum MessageOrder
{
    /// <summary>Ascending sequence: from <see cref="MessageQuery.AfterSequence"/> (or the first message) forward.</summary>
    OldestFirst = 0,

    /// <summary>Descending sequence: from <see cref="MessageQuery.BeforeSequence"/> (or the latest message) backward.</summary>
    NewestFirst = 1,
}
