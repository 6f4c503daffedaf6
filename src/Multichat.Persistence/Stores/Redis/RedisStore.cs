using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Multichat.Persistence.Internal;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// Keeps sessions in Redis (a single node, or Redis Cluster), for applications on many machines. Every change of a
/// session is one Lua script over keys that share a hash tag (see <see cref="RedisKeys"/>): an append checks
/// idempotency, assigns sequences, writes the messages, updates counters and indexes and trims, atomically and in
/// one round trip. Backend failures surface as <see cref="StoreUnavailableException"/> (the server cannot be reached
/// or did not answer in time) or <see cref="StoreCorruptedException"/> (data of the wrong shape).
/// </summary>
internal sealed class RedisStore : ISessionStore
{
    private readonly RedisConnection _connection;
    private readonly RedisScriptRunner _runner;
    private readonly RedisSessionLimit _limit;
    private readonly RedisKeys _keys;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;

    public RedisStore(RedisStoreOptions options, ILogger logger)
    {
        var configuration = RedisConnection.Configure(options);
        _connection = new RedisConnection(configuration, logger);
        _runner = new RedisScriptRunner(_connection, configuration.DefaultDatabase ?? -1);
        _keys = new RedisKeys(options.KeyPrefix);
        _limit = new RedisSessionLimit(_runner, _keys, LeaseTime(options), logger);
        _clock = options.TimeProvider;
        _logger = logger;
    }

    public string Name => "redis";

    public async Task<ChatSession> CreateSessionAsync(ChatSession session, int maxSessions, CancellationToken cancellationToken = default)
    {
        // KEYS[1] the record, KEYS[2] its bucket's recency index; on a single node also KEYS[3] the session count and
        // KEYS[4..] every bucket's recency index: there the limit is checked against their sizes in the same script
        // (a server that is not a cluster runs scripts over keys of several slots). On a cluster ARGV[9] is 0 and
        // RedisSessionLimit keeps the count around this script.
        const string Script = """
            if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
            local max = tonumber(ARGV[9])
            if max > 0 then
              local count = 0
              for i = 4, #KEYS do count = count + redis.call('ZCARD', KEYS[i]) end
              if count >= max then return -1 end
            end
            redis.call('HSET', KEYS[1], 'p', ARGV[1], 'c', ARGV[5], 'u', ARGV[5], 'v', 1, 'n', 0, 'l', 0, 'k', ARGV[6])
            if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 't', ARGV[2]) end
            if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[4]) end
            redis.call('ZADD', KEYS[2], ARGV[6], ARGV[8])
            for p in string.gmatch(ARGV[1], '[^\n]+') do
              redis.call('ZADD', ARGV[7] .. ':p:' .. p, ARGV[6], ARGV[8])
            end
            if KEYS[3] and redis.call('HEXISTS', KEYS[3], 'n') == 1 then
              redis.call('HINCRBY', KEYS[3], 'n', 1)
              redis.call('HINCRBY', KEYS[3], 'e', 1)
            end
            return 1
            """;
        var keys = _keys.For(session.SessionId);
        var now = _clock.GetUtcNow().UtcTicks;
        var cluster = await _runner.IsClusterAsync(cancellationToken).ConfigureAwait(false);
        RedisValue[] values =
        [
            RedisRecordCodec.JoinParticipants(session.Participants), session.Title ?? string.Empty, session.Title is null ? "0" : "1",
            RedisRecordCodec.EncodeMetadata(session.Metadata), now, RedisRecordCodec.Score(now), keys.Base, session.SessionId,
            cluster ? 0 : Math.Max(maxSessions, 0),
        ];
        int outcome;
        if (!cluster)
        {
            outcome = (int)await EvaluateAsync(Script, [keys.Meta, keys.Recent, .. _keys.LimitKeys], values, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var lease = await _limit.ReserveCreateAsync(maxSessions, cancellationToken).ConfigureAwait(false);

            // An exception here (a timeout: the create may have happened) leaves the lease to expire, counting high.
            outcome = (int)await EvaluateAsync(Script, [keys.Meta, keys.Recent], values, cancellationToken).ConfigureAwait(false);
            await _limit.SettleAsync(lease, outcome == 1 ? 1 : 0).ConfigureAwait(false);
        }

        switch (outcome)
        {
            case 0:
                throw SessionAlreadyExistsException.ForSession(session.SessionId);
            case -1:
                throw QuotaExceededException.ForSessions(maxSessions);
        }

        return SessionRecords.New(session, new DateTimeOffset(now, TimeSpan.Zero));
    }

    public async Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var keys = _keys.For(sessionId);
        var fields = await RunAsync(db => db.HashGetAsync(keys.Meta, RedisRecordCodec.SessionFields), cancellationToken).ConfigureAwait(false);
        if (fields[0].IsNull)
        {
            return null;
        }

        return RedisRecordCodec.DecodeSession(sessionId, [.. fields.Select(f => RedisResult.Create(f))], 0);
    }

    public async Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default)
    {
        // Compare-and-set on the version; participant index entries of removed participants go in the same script.
        const string Script = """
            local cur = redis.call('HMGET', KEYS[1], 'v', 'p')
            if not cur[1] then return {-1} end
            if cur[1] ~= ARGV[1] then return {-2, cur[1]} end
            for p in string.gmatch(cur[2], '[^\n]+') do
              redis.call('ZREM', ARGV[8] .. ':p:' .. p, ARGV[9])
            end
            local v = tonumber(cur[1]) + 1
            redis.call('HSET', KEYS[1], 'p', ARGV[2], 'u', ARGV[6], 'v', v, 'k', ARGV[7])
            if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 't', ARGV[3]) else redis.call('HDEL', KEYS[1], 't') end
            if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[5]) else redis.call('HDEL', KEYS[1], 'm') end
            redis.call('ZADD', KEYS[2], ARGV[7], ARGV[9])
            for p in string.gmatch(ARGV[2], '[^\n]+') do
              redis.call('ZADD', ARGV[8] .. ':p:' .. p, ARGV[7], ARGV[9])
            end
            local rec = redis.call('HMGET', KEYS[1], 'p', 't', 'm', 'c', 'u', 'v', 'n', 'l')
            table.insert(rec, 1, 1)
            return rec
            """;
        var keys = _keys.For(session.SessionId);
        var now = _clock.GetUtcNow().UtcTicks;
        var result = (RedisResult[])(await EvaluateAsync(
            Script,
            [keys.Meta, keys.Recent],
            [
                session.Version, RedisRecordCodec.JoinParticipants(session.Participants), session.Title ?? string.Empty,
                session.Title is null ? "0" : "1", RedisRecordCodec.EncodeMetadata(session.Metadata), now, RedisRecordCodec.Score(now),
                keys.Base, session.SessionId,
            ],
            cancellationToken).ConfigureAwait(false))!;
        return (int)result[0] switch
        {
            1 => RedisRecordCodec.DecodeSession(session.SessionId, result, 1),
            -1 => throw SessionNotFoundException.ForSession(session.SessionId),
            _ => throw ConcurrencyConflictException.ForSession(
                session.SessionId, session.Version, long.Parse((string)result[1]!, CultureInfo.InvariantCulture)),
        };
    }

    public async Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        // KEYS[6], on a single node only, is the session count (kept when it exists; on a cluster RedisSessionLimit
        // keeps it around this script).
        const string Script = """
            local cur = redis.call('HMGET', KEYS[1], 'p', 'n')
            if not cur[1] then return 0 end
            for p in string.gmatch(cur[1], '[^\n]+') do
              redis.call('ZREM', ARGV[1] .. ':p:' .. p, ARGV[2])
            end
            redis.call('ZREM', KEYS[4], ARGV[2])
            local n = tonumber(cur[2])
            if n > 0 then redis.call('HINCRBY', KEYS[5], 'messages', 0 - n) end
            redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
            if KEYS[6] and redis.call('HEXISTS', KEYS[6], 'n') == 1 then
              redis.call('HINCRBY', KEYS[6], 'n', -1)
              redis.call('HINCRBY', KEYS[6], 'e', 1)
            end
            return 1
            """;
        var keys = _keys.For(sessionId);
        if (!await _runner.IsClusterAsync(cancellationToken).ConfigureAwait(false))
        {
            var result = await EvaluateAsync(
                Script, [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats, _keys.SessionCount], [keys.Base, sessionId], cancellationToken)
                .ConfigureAwait(false);
            return (int)result == 1;
        }

        var lease = await _limit.ReserveDeleteAsync(cancellationToken).ConfigureAwait(false);
        var deleted = (int)await EvaluateAsync(Script, [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats], [keys.Base, sessionId], cancellationToken)
            .ConfigureAwait(false) == 1;
        await _limit.SettleAsync(lease, deleted ? -1 : 0).ConfigureAwait(false);
        return deleted;
    }

    public async Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken = default)
    {
        // Each bucket returns every entry that can be among its first Limit + 1 (see the script); the exact order
        // (UpdatedAt ticks, then id descending) and filters are applied here over the union, so paging is exact.
        const string Script = """
            local want = tonumber(ARGV[3])
            local top = tonumber(ARGV[1])
            local res = {0}
            local stale = {}
            local counted = 0
            local boundary = nil
            local offset = 0
            local size = want + 8
            local finished = false
            while not finished do
              local page = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYSCORE', 'REV', 'LIMIT', offset, size, 'WITHSCORES')
              if #page == 0 then break end
              for i = 1, #page, 2 do
                local id = page[i]
                local score = tonumber(page[i + 1])
                if boundary and score < boundary then finished = true break end
                local rec = redis.call('HMGET', ARGV[4] .. ':m:' .. id, 'p', 't', 'm', 'c', 'u', 'v', 'n', 'l')
                if not rec[1] then
                  stale[#stale + 1] = id
                else
                  res[#res + 1] = id
                  for j = 1, 8 do res[#res + 1] = rec[j] end
                  if not (top and score == top) then counted = counted + 1 end
                  if counted >= want and not boundary then boundary = score end
                end
              end
              offset = offset + size
            end
            for _, id in ipairs(stale) do redis.call('ZREM', KEYS[1], id) end
            res[1] = #stale
            return res
            """;
        var after = SessionCursor.Decode(query.ContinuationToken, nameof(query));
        long? maxTicks = after?.UpdatedAtUtcTicks;
        if (query.UpdatedBefore is { } before && (maxTicks is null || before.UtcTicks < maxTicks))
        {
            maxTicks = before.UtcTicks;
        }

        RedisValue max = maxTicks is { } m ? RedisRecordCodec.Score(m) : "+inf";
        RedisValue min = query.UpdatedAfter is { } updatedAfter ? RedisRecordCodec.Score(updatedAfter.UtcTicks) : "-inf";
        var want = query.Limit + 1;

        var calls = new Task<RedisResult>[RedisKeys.BucketCount];
        for (var bucket = 0; bucket < RedisKeys.BucketCount; bucket++)
        {
            var index = query.Participant is { } participant ? _keys.Participant(bucket, participant) : _keys.Recent(bucket);
            calls[bucket] = EvaluateAsync(Script, [index], [max, min, want, _keys.Base(bucket)], cancellationToken);
        }

        // All buckets are awaited together, so a failure of one never leaves the others' failures unobserved.
        var results = await Task.WhenAll(calls).ConfigureAwait(false);
        var matched = new List<ChatSession>();
        var stale = 0;
        foreach (var bucketResult in results)
        {
            var result = (RedisResult[])bucketResult!;
            stale += (int)result[0];
            for (var i = 1; i + 8 < result.Length; i += 9)
            {
                ChatSession session;
                try
                {
                    session = RedisRecordCodec.DecodeSession((string)result[i]!, result, i + 1);
                }
                catch (StoreCorruptedException ex)
                {
                    // One damaged record must not hide every other session; reading it directly still reports it.
                    RedisLog.DamagedSessionSkipped(_logger, ex);
                    continue;
                }

                if (SessionListing.Matches(session, query, after))
                {
                    matched.Add(session);
                }
            }
        }

        if (stale > 0)
        {
            RedisLog.StaleIndexEntriesRemoved(_logger, stale);
        }

        matched.Sort(SessionCursor.CompareForListing);
        if (matched.Count > want)
        {
            matched.RemoveRange(want, matched.Count - want);
        }

        return SessionListing.ToPage(matched, query.Limit);
    }

    public async IAsyncEnumerable<string> ListSessionIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        const int Chunk = 1000;
        for (var bucket = 0; bucket < RedisKeys.BucketCount; bucket++)
        {
            var index = _keys.Recent(bucket);
            for (long start = 0; ; start += Chunk)
            {
                var ids = await RunAsync(db => db.SortedSetRangeByRankAsync(index, start, start + Chunk - 1), cancellationToken).ConfigureAwait(false);
                foreach (var id in ids)
                {
                    yield return id!;
                }

                if (ids.Length < Chunk)
                {
                    break;
                }
            }
        }
    }

    public async Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, int maxMessages, CancellationToken cancellationToken = default)
    {
        // One round trip: idempotency (id → seq map), sequences, writes, counters, activity indexes and trimming.
        // Returns per input message the new sequence (a number) or the stored original member (a string).
        const string Script = """
            local meta = redis.call('HMGET', KEYS[1], 'l', 'n', 'k')
            if not meta[1] then return false end
            local first = tonumber(meta[1])
            local last = first
            local out = {}
            local fresh = {}
            for i = 4, #ARGV, 2 do
              local id = ARGV[i]
              if fresh[id] then
                out[#out + 1] = fresh[id]
              elseif redis.call('HSETNX', KEYS[3], id, last + 1) == 1 then
                last = last + 1
                redis.call('ZADD', KEYS[2], last, last .. '\n' .. id .. '\n' .. ARGV[i + 1])
                fresh[id] = last
                out[#out + 1] = last
              else
                local seq = redis.call('HGET', KEYS[3], id)
                local found = redis.call('ZRANGE', KEYS[2], seq, seq, 'BYSCORE')
                out[#out + 1] = found[1] or 'missing'
              end
            end
            local added = last - first
            if added > 0 then
              redis.call('HSET', KEYS[1], 'l', last, 'u', ARGV[1], 'n', tonumber(meta[2]) + added, 'k', ARGV[2])
              redis.call('HINCRBY', KEYS[5], 'messages', added)
              -- The indexes hold whole milliseconds: within the millisecond they already show, they are up to date.
              if meta[3] ~= ARGV[2] then
                local base = string.sub(KEYS[4], 1, -8)
                local sid = string.sub(KEYS[1], #base + 4)
                redis.call('ZADD', KEYS[4], ARGV[2], sid)
                for p in string.gmatch(redis.call('HGET', KEYS[1], 'p'), '[^\n]+') do
                  redis.call('ZADD', base .. ':p:' .. p, ARGV[2], sid)
                end
              end
            end
            local max = tonumber(ARGV[3])
            if max > 0 then
              local count = redis.call('ZCARD', KEYS[2])
              if count > max then
                local doomed = redis.call('ZRANGE', KEYS[2], 0, count - max - 1)
                for _, m in ipairs(doomed) do
                  redis.call('HDEL', KEYS[3], string.match(m, '^%d+\n([^\n]*)\n'))
                end
                redis.call('ZREMRANGEBYRANK', KEYS[2], 0, count - max - 1)
                redis.call('HINCRBY', KEYS[1], 'n', -#doomed)
                redis.call('HINCRBY', KEYS[5], 'messages', -#doomed)
              end
            end
            return out
            """;
        var keys = _keys.For(sessionId);
        var now = _clock.GetUtcNow();
        // The bucket's base and the session id are not sent: the script cuts them from KEYS[4] and KEYS[1] when needed.
        var values = new RedisValue[3 + (messages.Count * 2)];
        values[0] = now.UtcTicks;
        values[1] = RedisRecordCodec.Score(now.UtcTicks);
        values[2] = maxMessages;
        var timestamps = new long[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            timestamps[i] = message.Timestamp == default ? now.UtcTicks : message.Timestamp.UtcTicks;
            values[3 + (2 * i)] = message.Id;
            values[4 + (2 * i)] = RedisRecordCodec.EncodeMessageBody(message, timestamps[i]);
        }

        var result = await EvaluateAsync(Script, [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats], values, cancellationToken)
            .ConfigureAwait(false);
        if (result.IsNull)
        {
            throw SessionNotFoundException.ForSession(sessionId);
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

                var message = messages[i];
                stored[i] = message with
                {
                    Sequence = sequence,
                    Timestamp = new DateTimeOffset(timestamps[i], TimeSpan.Zero),
                    Metadata = MetadataCopy.Of(message.Metadata),
                };
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
        const string Script = """
            if redis.call('EXISTS', KEYS[1]) == 0 then return false end
            if ARGV[3] == '1' then
              return redis.call('ZRANGE', KEYS[2], ARGV[2], ARGV[1], 'BYSCORE', 'REV', 'LIMIT', 0, ARGV[4])
            end
            return redis.call('ZRANGE', KEYS[2], ARGV[1], ARGV[2], 'BYSCORE', 'LIMIT', 0, ARGV[4])
            """;
        var keys = _keys.For(sessionId);
        RedisValue min = query.AfterSequence is { } afterSequence ? "(" + afterSequence.ToString(CultureInfo.InvariantCulture) : "-inf";
        RedisValue max = query.BeforeSequence is { } beforeSequence ? "(" + beforeSequence.ToString(CultureInfo.InvariantCulture) : "+inf";
        var result = await EvaluateAsync(
            Script,
            [keys.Meta, keys.Messages],
            [min, max, query.Order == MessageOrder.NewestFirst ? "1" : "0", MessagePaging.FetchCount(query)],
            cancellationToken).ConfigureAwait(false);
        if (result.IsNull)
        {
            throw SessionNotFoundException.ForSession(sessionId);
        }

        var members = (RedisValue[])result!;
        var fetched = new List<ChatMessage>(members.Length);
        foreach (var member in members)
        {
            fetched.Add(RedisRecordCodec.DecodeMessage(sessionId, member));
        }

        return MessagePaging.ToPage(query, fetched);
    }

    public async Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default)
    {
        const string Script = """
            if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
            local keep = tonumber(ARGV[1])
            local count = redis.call('ZCARD', KEYS[2])
            if count <= keep then return 0 end
            local doomed = redis.call('ZRANGE', KEYS[2], 0, count - keep - 1)
            for _, m in ipairs(doomed) do
              redis.call('HDEL', KEYS[3], string.match(m, '^%d+\n([^\n]*)\n'))
            end
            redis.call('ZREMRANGEBYRANK', KEYS[2], 0, count - keep - 1)
            redis.call('HINCRBY', KEYS[1], 'n', -#doomed)
            redis.call('HINCRBY', KEYS[4], 'messages', -#doomed)
            return #doomed
            """;
        var keys = _keys.For(sessionId);
        var result = await EvaluateAsync(Script, [keys.Meta, keys.Messages, keys.Ids, keys.Stats], [keepLatest], cancellationToken).ConfigureAwait(false);
        return (long)result;
    }

    public async Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default)
    {
        // Returns 1 for a new session, 2 for a replaced one, 0 when one exists and may not be replaced. KEYS[6], on a
        // single node only, is the session count (a new session counts; imports do not check the limit).
        const string Script = """
            local n = redis.call('HGET', KEYS[1], 'n')
            if n then
              if ARGV[1] ~= '1' then return 0 end
              local old = redis.call('HGET', KEYS[1], 'p')
              for p in string.gmatch(old, '[^\n]+') do
                redis.call('ZREM', ARGV[11] .. ':p:' .. p, ARGV[12])
              end
              if tonumber(n) > 0 then redis.call('HINCRBY', KEYS[5], 'messages', 0 - tonumber(n)) end
              redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
            end
            redis.call('HSET', KEYS[1], 'p', ARGV[2], 'c', ARGV[6], 'u', ARGV[7], 'v', ARGV[8], 'n', 0, 'l', ARGV[9], 'k', ARGV[10])
            if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 't', ARGV[3]) end
            if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[5]) end
            redis.call('ZADD', KEYS[4], ARGV[10], ARGV[12])
            for p in string.gmatch(ARGV[2], '[^\n]+') do
              redis.call('ZADD', ARGV[11] .. ':p:' .. p, ARGV[10], ARGV[12])
            end
            if n then return 2 end
            if KEYS[6] and redis.call('HEXISTS', KEYS[6], 'n') == 1 then
              redis.call('HINCRBY', KEYS[6], 'n', 1)
              redis.call('HINCRBY', KEYS[6], 'e', 1)
            end
            return 1
            """;
        var keys = _keys.For(session.SessionId);
        var updated = session.UpdatedAt.UtcTicks;
        RedisValue[] values =
        [
            replaceExisting ? "1" : "0", RedisRecordCodec.JoinParticipants(session.Participants), session.Title ?? string.Empty,
            session.Title is null ? "0" : "1", RedisRecordCodec.EncodeMetadata(session.Metadata), session.CreatedAt.UtcTicks, updated,
            session.Version, session.LastSequence, RedisRecordCodec.Score(updated), keys.Base, session.SessionId,
        ];
        int outcome;
        if (!await _runner.IsClusterAsync(cancellationToken).ConfigureAwait(false))
        {
            outcome = (int)await EvaluateAsync(
                Script, [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats, _keys.SessionCount], values, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var lease = await _limit.ReserveCreateAsync(0, cancellationToken).ConfigureAwait(false);
            outcome = (int)await EvaluateAsync(Script, [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats], values, cancellationToken)
                .ConfigureAwait(false);
            await _limit.SettleAsync(lease, outcome == 1 ? 1 : 0).ConfigureAwait(false);
        }

        if (outcome == 0)
        {
            throw SessionAlreadyExistsException.ForSession(session.SessionId);
        }
    }

    public async Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default)
    {
        // The order against what is stored is checked in the script (it returns the last stored sequence when the
        // batch does not follow it) so a concurrent writer cannot slip in between check and write.
        const string Script = """
            local l = redis.call('HGET', KEYS[1], 'l')
            if not l then return {-1} end
            local tail = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
            local stored = 0
            if tail[2] then stored = tonumber(tail[2]) end
            if tonumber(ARGV[1]) <= stored then return {-2, stored} end
            local count = 0
            local top = tonumber(l)
            for i = 1, #ARGV, 3 do
              redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i] .. '\n' .. ARGV[i + 1] .. '\n' .. ARGV[i + 2])
              redis.call('HSET', KEYS[3], ARGV[i + 1], ARGV[i])
              count = count + 1
              if tonumber(ARGV[i]) > top then top = tonumber(ARGV[i]) end
            end
            redis.call('HINCRBY', KEYS[1], 'n', count)
            redis.call('HSET', KEYS[1], 'l', top)
            redis.call('HINCRBY', KEYS[4], 'messages', count)
            return {1}
            """;
        ImportChecks.EnsureAscending(messages, 0);
        if (messages.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false) is null)
            {
                throw SessionNotFoundException.ForSession(sessionId);
            }

            return;
        }

        var keys = _keys.For(sessionId);
        var values = new RedisValue[messages.Count * 3];
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            values[3 * i] = message.Sequence;
            values[(3 * i) + 1] = message.Id;
            values[(3 * i) + 2] = RedisRecordCodec.EncodeMessageBody(message, message.Timestamp.UtcTicks);
        }

        var result = (RedisResult[])(await EvaluateAsync(Script, [keys.Meta, keys.Messages, keys.Ids, keys.Stats], values, cancellationToken)
            .ConfigureAwait(false))!;
        switch ((int)result[0])
        {
            case -1:
                throw SessionNotFoundException.ForSession(sessionId);
            case -2:
                ImportChecks.EnsureAscending(messages, (long)result[1]);
                break;
        }
    }

    public async Task<HealthReport> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        var started = _clock.GetTimestamp();
        try
        {
            var latency = await RunAsync(db => db.PingAsync(), cancellationToken).ConfigureAwait(false);
            var statistics = await GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
            return new HealthReport
            {
                Status = StoreHealthStatus.Healthy,
                Store = Name,
                Description = string.Create(
                    CultureInfo.InvariantCulture,
                    $"Redis answers in {latency.TotalMilliseconds:F1} ms; {statistics.SessionCount} sessions, {statistics.MessageCount} messages."),
                Duration = _clock.GetElapsedTime(started),
            };
        }
        catch (SessionPersistenceException ex)
        {
            return new HealthReport
            {
                Status = StoreHealthStatus.Unhealthy,
                Store = Name,
                Description = ex.Message,
                Duration = _clock.GetElapsedTime(started),
                Exception = ex,
            };
        }
    }

    public async Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default)
    {
        const string Script = """
            return {redis.call('ZCARD', KEYS[1]), tonumber(redis.call('HGET', KEYS[2], 'messages') or '0')}
            """;
        var calls = new Task<RedisResult>[RedisKeys.BucketCount];
        for (var bucket = 0; bucket < RedisKeys.BucketCount; bucket++)
        {
            calls[bucket] = EvaluateAsync(Script, [_keys.Recent(bucket), _keys.Stats(bucket)], [], cancellationToken);
        }

        long sessions = 0, messages = 0;
        foreach (var result in await Task.WhenAll(calls).ConfigureAwait(false))
        {
            var counts = (RedisResult[])result!;
            sessions += (long)counts[0];
            messages += (long)counts[1];
        }

        return new StoreStatistics { Store = Name, SessionCount = sessions, MessageCount = messages };
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    private Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken) =>
        _runner.EvaluateAsync(script, keys, values, cancellationToken);

    private Task<T> RunAsync<T>(Func<IDatabase, Task<T>> operation, CancellationToken cancellationToken) => _runner.RunAsync(operation, cancellationToken);

    // A lease outlives every live create or delete by far (each step fails within the operation timeout), so one that
    // is older belongs to a process that stopped between its steps.
    private static TimeSpan LeaseTime(RedisStoreOptions options) =>
        TimeSpan.FromTicks(Math.Max(TimeSpan.FromMinutes(1).Ticks, 10 * (options.ConnectTimeout + options.OperationTimeout).Ticks));
}
