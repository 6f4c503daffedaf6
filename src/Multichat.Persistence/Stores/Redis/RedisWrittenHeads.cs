namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// Read-your-own-writes under <c>ReadFrom = PreferReplica</c>: remembers, per session this instance wrote, the least
/// state a replica must show to have that write (<see cref="WrittenHead"/>), so a read whose replica answer is older is
/// asked of the primary instead (see <see cref="RedisReplicaReads"/>). Bounded: the sessions written least recently
/// are forgotten beyond <see cref="Capacity"/>, and a replica read of a forgotten session is taken as it is (its write
/// was at least <see cref="Capacity"/> writes of other sessions ago, far beyond any replica lag this should meet).
/// </summary>
internal sealed class RedisWrittenHeads
{
    /// <summary>How many sessions are remembered.</summary>
    public const int Capacity = 10_000;

    private readonly object _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string SessionId, WrittenHead Head)>> _heads = new(StringComparer.Ordinal);
    private readonly LinkedList<(string SessionId, WrittenHead Head)> _byRecency = new();

    /// <summary>How many sessions are remembered now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _heads.Count;
            }
        }
    }

    /// <summary>Whether a replica's answer cannot be checked now, so the primary must answer.</summary>
    public bool NeedsPrimary(string sessionId) =>
        Find(sessionId) is { Kind: WrittenHeadKind.Primary or WrittenHeadKind.PrimaryUntilNextWrite };

    /// <summary>Whether a replica's answer (<see langword="null"/>: no session there) has everything this instance wrote in the session.</summary>
    public bool Accepts(string sessionId, ChatSession? replica) => Find(sessionId) switch
    {
        null => true,
        { Kind: WrittenHeadKind.Absent } => replica is null,
        { Kind: WrittenHeadKind.Present } head => replica is not null
            && (head.CreatedTicks is not { } created || created == replica.CreatedAt.UtcTicks)
            && replica.LastSequence >= head.LastSequence
            && replica.Version >= head.Version,
        _ => false,
    };

    /// <summary>This instance created the session (a new life of its id).</summary>
    public void Created(ChatSession session) => Set(session.SessionId, _ => Head(session));

    /// <summary>This instance updated the session and got back <paramref name="session"/>.</summary>
    public void Updated(ChatSession session) => Set(session.SessionId, prior => prior switch
    {
        { Kind: WrittenHeadKind.Primary } => prior.Value,
        // The same life (or one not known): never lower what a concurrent append of this instance recorded.
        { Kind: WrittenHeadKind.Present or WrittenHeadKind.PrimaryUntilNextWrite } p when p.CreatedTicks is null || p.CreatedTicks == session.CreatedAt.UtcTicks =>
            Head(session) with { LastSequence = Math.Max(p.LastSequence, session.LastSequence), Version = Math.Max(p.Version, session.Version) },
        _ => Head(session),
    });

    /// <summary>This instance appended messages up to <paramref name="lastSequence"/>.</summary>
    public void Appended(string sessionId, long lastSequence) => Set(sessionId, prior => prior switch
    {
        null => new WrittenHead(WrittenHeadKind.Present, null, lastSequence, 0),
        { Kind: WrittenHeadKind.Present or WrittenHeadKind.PrimaryUntilNextWrite } p =>
            p with { Kind = WrittenHeadKind.Present, LastSequence = Math.Max(p.LastSequence, lastSequence) },
        // Deleted here, so another instance created the session since: which life a replica shows cannot be told.
        { Kind: WrittenHeadKind.Absent } => new WrittenHead(WrittenHeadKind.Primary, null, 0, 0),
        _ => prior.Value,
    });

    /// <summary>This instance deleted the session (or found none to delete).</summary>
    public void Deleted(string sessionId) => Set(sessionId, _ => new WrittenHead(WrittenHeadKind.Absent, null, 0, 0));

    /// <summary>
    /// This instance wrote something a replica's answer cannot be checked against until its next append or update
    /// (a trim, or an append or update whose outcome is unknown).
    /// </summary>
    public void Unsure(string sessionId) => Set(sessionId, prior => prior switch
    {
        null => new WrittenHead(WrittenHeadKind.PrimaryUntilNextWrite, null, 0, 0),
        { Kind: WrittenHeadKind.Present } p => p with { Kind = WrittenHeadKind.PrimaryUntilNextWrite },
        { Kind: WrittenHeadKind.Absent } => new WrittenHead(WrittenHeadKind.Primary, null, 0, 0),
        _ => prior.Value,
    });

    /// <summary>
    /// This instance imported or replaced the session, or a create or delete of it failed midway: the primary answers
    /// until this instance creates or deletes it.
    /// </summary>
    public void Replaced(string sessionId) => Set(sessionId, _ => new WrittenHead(WrittenHeadKind.Primary, null, 0, 0));

    private static WrittenHead Head(ChatSession session) =>
        new(WrittenHeadKind.Present, session.CreatedAt.UtcTicks, session.LastSequence, session.Version);

    private WrittenHead? Find(string sessionId)
    {
        lock (_gate)
        {
            return _heads.TryGetValue(sessionId, out var node) ? node.Value.Head : null;
        }
    }

    private void Set(string sessionId, Func<WrittenHead?, WrittenHead> next)
    {
        lock (_gate)
        {
            if (_heads.TryGetValue(sessionId, out var node))
            {
                node.Value = (sessionId, next(node.Value.Head));
                _byRecency.Remove(node);
                _byRecency.AddFirst(node);
                return;
            }

            _heads.Add(sessionId, _byRecency.AddFirst((sessionId, next(null))));
            if (_heads.Count > Capacity)
            {
                _heads.Remove(_byRecency.Last!.Value.SessionId);
                _byRecency.RemoveLast();
            }
        }
    }
}
