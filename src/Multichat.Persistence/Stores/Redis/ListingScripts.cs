namespace Multichat.Persistence.Stores.Redis;

/// <summary>The Lua of the listing and statistics reads (<see cref="RedisSessionListing"/>), one call per bucket.</summary>
internal static class ListingScripts
{
    /// <summary>
    /// Walks one bucket index (KEYS[1]: recency, or a participant's) downwards from ARGV[1] (max score) to ARGV[2]
    /// (min) and returns {stale entries removed, then id and the 8 record fields per session} for every entry that can
    /// be among the first ARGV[3]: entries in the millisecond of the boundary are all returned, and the exact order and
    /// filters are applied by the client over the union of the buckets. ARGV[4] is the bucket's key base. Entries whose
    /// record is gone are removed from the index; a damaged record (another type, no participants) is returned with
    /// empty fields for the client to skip, and never fails the bucket.
    /// </summary>
    public const string ListBucket = """
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
            local rec = redis.pcall('HMGET', ARGV[4] .. ':m:' .. id, 'p', 't', 'm', 'c', 'u', 'v', 'n', 'l')
            local present = false
            if not rec.err then
              for j = 1, 8 do if rec[j] then present = true end end
            end
            if not rec.err and not present then
              stale[#stale + 1] = id
            elseif rec.err or not rec[1] then
              -- A record of another type, or without participants: damaged, not gone. Returned with empty fields, so
              -- the client logs and skips it; not counted, so it never takes the place of a readable session.
              res[#res + 1] = id
              for j = 1, 8 do res[#res + 1] = false end
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

    /// <summary>{sessions, messages} of one bucket: KEYS[1] its recency index, KEYS[2] its statistics.</summary>
    public const string Statistics = """
        return {redis.call('ZCARD', KEYS[1]), tonumber(redis.call('HGET', KEYS[2], 'messages') or '0')}
        """;
}
