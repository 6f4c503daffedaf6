using System.Globalization;
using Multichat.Persistence.Internal;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>Appends, reads, trims and imports the messages of one session: one script each, in the session's hash slot.</summary>
internal sealed class RedisMessageCommands(RedisStoreContext context)
{
    public async Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, MessageLimit limit, CancellationToken cancellationToken = default)
    {
        var keys = context.Keys.For(sessionId);
        var now = context.Clock.GetUtcNow();
        // The bucket's base and the session id are not sent: the script cuts them from KEYS[4] and KEYS[1] when needed.
        var values = new RedisValue[5 + (messages.Count * 2)];
        values[0] = now.UtcTicks;
        values[1] = RedisRecordCodec.Score(now.UtcTicks);
        values[2] = limit.Trims ? limit.MaxMessages : 0;
        values[3] = limit.Rejects ? limit.MaxMessages : 0;
        values[4] = await context.Runner.HintModeAsync(cancellationToken).ConfigureAwait(false);
        var records = new ChatMessage[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            // The stored form (timestamp, metadata copy) is fixed before the script runs; only the sequence comes back.
            var record = MessageRecords.Stored(messages[i], 0, now);
            records[i] = record;
            values[5 + (2 * i)] = record.Id;
            values[6 + (2 * i)] = RedisRecordCodec.EncodeMessageBody(record);
        }

        var faults = context.Faults;
        faults?.Reach(RedisFaultPoints.AppendBeforeScript);
        var result = await context.Runner.EvaluateAsync(MessageScripts.Append, [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats], values, cancellationToken)
            .ConfigureAwait(false);
        faults?.Reach(RedisFaultPoints.AppendAfterScript);
        if (result.IsNull)
        {
            throw SessionNotFoundException.ForSession(sessionId);
        }

        if (result.Resp2Type != ResultType.Array)
        {
            if (Refusal((string?)result) is { } refused)
            {
                throw QuotaExceededException.ForMessages(sessionId, refused.Stored, refused.New, limit.MaxMessages);
            }

            // The id map does not match the messages and could not be rebuilt from them (see the script): appending
            // could store an acknowledged id a second time, so nothing was written.
            throw IdMapDamaged(sessionId);
        }

        var outcomes = (RedisResult[])result!;
        var stored = new ChatMessage[messages.Count];
        Dictionary<long, ChatMessage>? fresh = null;
        for (var i = 0; i < outcomes.Length; i++)
        {
            var outcome = outcomes[i];
            if (outcome.Resp2Type == ResultType.Integer)
            {
                var sequence = (long)outcome;
                if (fresh is not null && fresh.TryGetValue(sequence, out var earlier))
                {
                    stored[i] = earlier; // an id repeated in the batch: the first occurrence was stored
                    continue;
                }

                stored[i] = records[i] with { Sequence = sequence };
                if (messages.Count > 1)
                {
                    (fresh ??= []).Add(sequence, stored[i]);
                }
            }
            else
            {
                var member = (RedisValue)outcome;
                if (member == "missing")
                {
                    throw RedisRecordCodec.Corrupted("a message index", null);
                }

                stored[i] = RedisRecordCodec.DecodeMessage(sessionId, member);
            }
        }

        return stored;
    }

    public async Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default)
    {
        var keys = context.Keys.For(sessionId);
        var result = await context.Runner.EvaluateAsync(MessageScripts.Read, [keys.Meta, keys.Messages], ReadArguments(query), cancellationToken).ConfigureAwait(false);
        if (result.IsNull)
        {
            throw SessionNotFoundException.ForSession(sessionId);
        }

        return ToPage(sessionId, query, (RedisValue[])result!);
    }

    /// <summary>The ARGV of a page read (<see cref="MessageScripts.Read"/>, and its replica form <see cref="ReplicaScripts.Read"/>): bounds, order, count.</summary>
    public static RedisValue[] ReadArguments(MessageQuery query)
    {
        RedisValue min = query.AfterSequence is { } afterSequence ? "(" + afterSequence.ToString(CultureInfo.InvariantCulture) : "-inf";
        RedisValue max = query.BeforeSequence is { } beforeSequence ? "(" + beforeSequence.ToString(CultureInfo.InvariantCulture) : "+inf";
        return [min, max, query.Order == MessageOrder.NewestFirst ? "1" : "0", MessagePaging.FetchCount(query)];
    }

    /// <summary>The page of <paramref name="query"/> from the members a page read returned.</summary>
    public static MessagePage ToPage(string sessionId, MessageQuery query, RedisValue[] members)
    {
        var fetched = new List<ChatMessage>(members.Length);
        foreach (var member in members)
        {
            fetched.Add(RedisRecordCodec.DecodeMessage(sessionId, member));
        }

        return MessagePaging.ToPage(query, fetched);
    }

    public async Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default)
    {
        var keys = context.Keys.For(sessionId);
        context.Faults?.Reach(RedisFaultPoints.TrimBeforeScript);
        var result = await context.Runner.EvaluateAsync(MessageScripts.Trim, [keys.Meta, keys.Messages, keys.Ids, keys.Stats], [keepLatest], cancellationToken).ConfigureAwait(false);
        context.Faults?.Reach(RedisFaultPoints.TrimAfterScript);
        return (long)result;
    }

    public async Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default)
    {
        ImportChecks.EnsureAscending(messages, 0);
        if (messages.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await RedisSessionCommands.ReadAsync(context, sessionId, cancellationToken).ConfigureAwait(false) is null)
            {
                throw SessionNotFoundException.ForSession(sessionId);
            }

            return;
        }

        var keys = context.Keys.For(sessionId);
        var values = new RedisValue[1 + (messages.Count * 3)];
        values[0] = await context.Runner.HintModeAsync(cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < messages.Count; i++)
        {
            var record = MessageRecords.Imported(messages[i]);
            values[1 + (3 * i)] = record.Sequence;
            values[2 + (3 * i)] = record.Id;
            values[3 + (3 * i)] = RedisRecordCodec.EncodeMessageBody(record);
        }

        context.Faults?.Reach(RedisFaultPoints.ImportMessagesBeforeScript);
        var result = (RedisResult[])(await context.Runner.EvaluateAsync(MessageScripts.ImportMessages, [keys.Meta, keys.Messages, keys.Ids, keys.Stats], values, cancellationToken)
            .ConfigureAwait(false))!;
        context.Faults?.Reach(RedisFaultPoints.ImportMessagesAfterScript);
        switch ((int)result[0])
        {
            case -1:
                throw SessionNotFoundException.ForSession(sessionId);
            case -2:
                ImportChecks.EnsureAscending(messages, (long)result[1]);
                break;
            case -3:
                throw new ArgumentException(
                    $"Imported message '{(string?)result[1]}' has an id that is stored in session '{sessionId}' already or repeats in the batch; message ids are unique in a session. Nothing of the batch was written.",
                    nameof(messages));
        }
    }

    // The script's answer when the Reject limit refused the batch: 'quota STORED NEW'.
    private static (long Stored, int New)? Refusal(string? answer)
    {
        var parts = answer?.Split(' ');
        return parts is ["quota", var stored, var fresh]
            && long.TryParse(stored, NumberStyles.None, CultureInfo.InvariantCulture, out var storedCount)
            && int.TryParse(fresh, NumberStyles.None, CultureInfo.InvariantCulture, out var newCount)
            ? (storedCount, newCount)
            : null;
    }

    private static StoreCorruptedException IdMapDamaged(string sessionId) => new(
        $"The Redis store's id map of session '{sessionId}' (key ':i:' of the session) does not match its messages and could not be rebuilt from them, so an append could store a message id twice; nothing was written. Restore the session from a backup, or delete it.");
}
