using System.Globalization;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// Reads of one session under <c>ReadFrom = PreferReplica</c>: a replica answers (the primary when none is connected;
/// StackExchange.Redis picks), and its answer carries what its copy of the session has reached (created ticks, last
/// sequence, version). When that is older than what this instance wrote there (<see cref="RedisWrittenHeads"/>), or
/// this instance's last write cannot be checked that way, the primary answers instead, so this instance always reads
/// its own writes; other instances' writes show once the replica has them.
/// </summary>
internal sealed class RedisReplicaReads(RedisStoreContext context, RedisWrittenHeads heads, RedisMessageCommands messages)
{
    public async Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (!heads.NeedsPrimary(sessionId))
        {
            var replica = await RedisSessionCommands.ReadAsync(context, sessionId, cancellationToken, CommandFlags.PreferReplica).ConfigureAwait(false);
            if (heads.Accepts(sessionId, replica))
            {
                return replica;
            }
        }

        return await RedisSessionCommands.ReadAsync(context, sessionId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken)
    {
        if (!heads.NeedsPrimary(sessionId))
        {
            var keys = context.Keys.For(sessionId);
            var result = await context.Runner.EvaluateAsync(
                ReplicaScripts.Read, [keys.Meta, keys.Messages], RedisMessageCommands.ReadArguments(query), cancellationToken, CommandFlags.PreferReplica).ConfigureAwait(false);
            if (result.IsNull)
            {
                if (heads.Accepts(sessionId, null))
                {
                    throw SessionNotFoundException.ForSession(sessionId);
                }
            }
            else
            {
                var answer = (RedisResult[])result!;
                if (Head(sessionId, answer) is { } head && heads.Accepts(sessionId, head))
                {
                    return RedisMessageCommands.ToPage(sessionId, query, (RedisValue[])answer[3]!);
                }
            }
        }

        return await messages.GetMessagesAsync(sessionId, query, cancellationToken).ConfigureAwait(false);
    }

    // Only the fields the check compares; a head that does not parse leaves the answer to the primary read, which
    // reports damage as it always does.
    private static ChatSession? Head(string sessionId, RedisResult[] answer) =>
        Long(answer[0]) is { } created && Long(answer[1]) is { } lastSequence && Long(answer[2]) is { } version
            ? new ChatSession { SessionId = sessionId, CreatedAt = new DateTimeOffset(created, TimeSpan.Zero), LastSequence = lastSequence, Version = version }
            : null;

    private static long? Long(RedisResult value) =>
        long.TryParse((string?)value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
}
