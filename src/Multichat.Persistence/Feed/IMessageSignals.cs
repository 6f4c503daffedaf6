namespace Multichat.Persistence.Feed;

/// <summary>
/// A store's wake-up hints for the change feed: "a session may have new messages". Only a hint: the feed always
/// reads the store (the source of truth) after one, and also every <see cref="PollInterval"/> without one, so a lost
/// hint delays a message and never loses it. Hints for writes by this instance, other processes (Json, Sqlite) and
/// other machines (Redis) all arrive here, through each backend's own mechanism.
/// </summary>
internal interface IMessageSignals
{
    /// <summary>How long a watcher waits for a hint before it reads the store anyway.</summary>
    TimeSpan PollInterval { get; }

    /// <summary>Starts delivering the session's hints to the returned signal; dispose it to stop.</summary>
    MessageSignal Listen(string sessionId);
}
