import Redis

/// Every Lua script of the engine, each beside its key and argument contract.
///
/// Each state change of a job is one script, so it is atomic: a crash or a dropped connection leaves a
/// job either before or after the change, never half-way. Scripts read the time from Redis (`TIME`), so
/// workers with skewed clocks agree on what is due. All `KEYS` of a script belong to one queue and carry
/// its hash tag, as Redis Cluster requires.
enum QueueScripts {
    /// Enqueues one job: now (stream), or later (scheduled), optionally unique or once-only.
    /// Other services may `EVAL` it too; `jobs/PROTOCOL.md` documents it.
    ///
    /// KEYS[1] stream · KEYS[2] scheduled · KEYS[3] scheduled:jobs · KEYS[4] unique:<key> · KEYS[5] once:<key>
    /// ARGV[1] envelope JSON · ARGV[2] job id · ARGV[3] run_at (Unix s, 0 = now)
    /// ARGV[4] unique seconds ("" = not unique) · ARGV[5] once seconds ("" = none) · ARGV[6] max bytes (0 = 524288; more is capped at 524288)
    /// Returns {"enqueued", id} · {"scheduled", id} · {"duplicate", id holding the unique key} ·
    /// {"once", id that took this once key}; an error reply `HOOPOE ...` for an envelope over the limit, a
    /// run_at in milliseconds, or a unique key the envelope contradicts.
    ///
    /// A unique job's envelope is written with `unique_key` (the `<key>` of KEYS[4]) added when it lacks one, so
    /// the worker releases the lock when the job settles whatever the client put in the envelope (decision 0005).
    static let enqueue = RedisScript(name: "enqueue", source: """
        local limit = tonumber(ARGV[6]) or 0
        if limit <= 0 or limit > 524288 then limit = 524288 end
        local runAt = tonumber(ARGV[3]) or 0
        if runAt ~= runAt or runAt >= 1e11 then
          return redis.error_reply('HOOPOE run_at (ARGV[3]) must be Unix seconds below 1e11, got ' .. ARGV[3] .. ': milliseconds?')
        end
        local body = ARGV[1]
        if ARGV[4] ~= '' then
          local base = string.sub(KEYS[1], 1, -8) .. ':unique:'
          if string.sub(KEYS[4], 1, #base) ~= base or #KEYS[4] == #base then
            return redis.error_reply('HOOPOE KEYS[4] must be ' .. base .. '<unique key>')
          end
          local key = string.sub(KEYS[4], #base + 1)
          local ok, doc = pcall(cjson.decode, body)
          if not ok or type(doc) ~= 'table' or not string.find(body, '^%s*{') then
            return redis.error_reply('HOOPOE the envelope (ARGV[1]) is not a JSON object')
          end
          if type(doc.unique_key) == 'string' then
            if doc.unique_key ~= key then
              return redis.error_reply('HOOPOE the envelope says unique_key ' .. cjson.encode(doc.unique_key) .. ' but KEYS[4] is the lock of ' .. cjson.encode(key))
            end
          else
            local open = string.find(body, '{', 1, true)
            local rest = string.sub(body, open + 1)
            local sep = ','
            if string.find(rest, '^%s*}') then sep = '' end
            body = string.sub(body, 1, open) .. '"unique_key":' .. cjson.encode(key) .. sep .. rest
          end
        end
        if #body > limit then
          return redis.error_reply('HOOPOE too large: the envelope is ' .. #body .. ' bytes, the limit is ' .. limit)
        end
        if ARGV[4] ~= '' then
          if not redis.call('SET', KEYS[4], ARGV[2], 'NX', 'EX', ARGV[4]) then
            return {'duplicate', redis.call('GET', KEYS[4]) or ''}
          end
        end
        if ARGV[5] ~= '' then
          if not redis.call('SET', KEYS[5], ARGV[2], 'NX', 'EX', ARGV[5]) then
            if ARGV[4] ~= '' then redis.call('DEL', KEYS[4]) end
            return {'once', redis.call('GET', KEYS[5]) or ''}
          end
        end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        if runAt > now then
          redis.call('ZADD', KEYS[2], runAt, ARGV[2])
          redis.call('HSET', KEYS[3], ARGV[2], body)
          return {'scheduled', ARGV[2]}
        end
        redis.call('XADD', KEYS[1], '*', 'job', body)
        return {'enqueued', ARGV[2]}
        """)

    /// Moves a job that arrived in the stream before its `run_at` to the scheduled set, acknowledging its entry,
    /// unless Redis's clock says it is due (then it is left for the caller to run).
    ///
    /// KEYS[1] stream · KEYS[2] scheduled · KEYS[3] scheduled:jobs · KEYS[4] stats:<day>
    /// ARGV[1] group · ARGV[2] entry id · ARGV[3] job id · ARGV[4] envelope JSON · ARGV[5] run_at · ARGV[6] type
    /// Returns 1 moved · 0 due now
    static let deferEarly = RedisScript(name: "defer-early", source: """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        if tonumber(ARGV[5]) <= now then return 0 end
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
        redis.call('XDEL', KEYS[1], ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
        redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
        redis.call('HINCRBY', KEYS[4], 'early', 1)
        redis.call('HINCRBY', KEYS[4], 'early:' .. ARGV[6], 1)
        redis.call('EXPIRE', KEYS[4], 7776000)
        return 1
        """)

    /// Moves due delayed jobs and retries to the stream, oldest first, at most ARGV[1] per call. Each entry gets
    /// `promoted 1` before its `job` field: the scheduled set's score decided its time (an operator who sets the
    /// score to now means "run now"), so the worker does not hold it back for its envelope's `run_at`.
    /// A short lock (ARGV[2] ms) makes concurrent promoters of one queue return at once instead of
    /// repeating the same scan; the script's atomicity alone already rules out double promotion.
    ///
    /// KEYS[1] scheduled · KEYS[2] scheduled:jobs · KEYS[3] stream · KEYS[4] promote:lock
    /// Returns the number promoted, or -1 when another promoter holds the lock.
    static let promote = RedisScript(name: "promote", source: """
        if not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[2]) then return -1 end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
        if #ids == 0 then return 0 end
        local jobs = redis.call('HMGET', KEYS[2], unpack(ids))
        for i, job in ipairs(jobs) do
          if job then redis.call('XADD', KEYS[3], '*', 'promoted', '1', 'job', job) end
        end
        redis.call('ZREM', KEYS[1], unpack(ids))
        redis.call('HDEL', KEYS[2], unpack(ids))
        if #ids == tonumber(ARGV[1]) then redis.call('DEL', KEYS[4]) end
        return #ids
        """)

    /// Acknowledges finished jobs in one call: removes their entries, releases their unique locks (only
    /// if still held by that job), and counts them per type.
    ///
    /// KEYS[1] stream · KEYS[2] stats:<day> · KEYS[3..2+u] unique:<key> of the jobs that hold one ·
    /// KEYS[3+u..2+u+a] answer:<id> of the jobs with `notify`
    /// ARGV: group, n, u, a, answer TTL (s), n entry ids, u job ids (one per unique key, same order), a outcome
    /// JSONs (one per answer key), then the counter name (`processed` or `discarded`), then type/count pairs.
    static let acknowledge = RedisScript(name: "acknowledge", source: """
        local n = tonumber(ARGV[2])
        local u = tonumber(ARGV[3])
        local a = tonumber(ARGV[4])
        if n > 0 then
          local ids = {unpack(ARGV, 6, 5 + n)}
          redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
          redis.call('XDEL', KEYS[1], unpack(ids))
        end
        local pos = 6 + n
        for i = 3, 2 + u do
          if redis.call('GET', KEYS[i]) == ARGV[pos] then redis.call('DEL', KEYS[i]) end
          pos = pos + 1
        end
        for i = 3 + u, 2 + u + a do
          redis.call('LPUSH', KEYS[i], ARGV[pos])
          redis.call('EXPIRE', KEYS[i], ARGV[5])
          pos = pos + 1
        end
        local field = ARGV[pos]
        pos = pos + 1
        local total = 0
        while pos < #ARGV do
          redis.call('HINCRBY', KEYS[2], field .. ':' .. ARGV[pos], ARGV[pos + 1])
          total = total + tonumber(ARGV[pos + 1])
          pos = pos + 2
        end
        if total > 0 then
          redis.call('HINCRBY', KEYS[2], field, total)
          redis.call('EXPIRE', KEYS[2], 7776000)
        end
        return n
        """)

    /// Schedules a failed job's next attempt and removes the failed delivery.
    ///
    /// KEYS[1] stream · KEYS[2] scheduled · KEYS[3] scheduled:jobs · KEYS[4] stats:<day>
    /// ARGV[1] group · ARGV[2] entry id ("" when not from the stream) · ARGV[3] job id
    /// ARGV[4] next envelope JSON · ARGV[5] due (Unix s) · ARGV[6] type
    static let retry = RedisScript(name: "retry", source: """
        if ARGV[2] ~= '' then
          redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
          redis.call('XDEL', KEYS[1], ARGV[2])
        end
        redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
        redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
        redis.call('HINCRBY', KEYS[4], 'failed', 1)
        redis.call('HINCRBY', KEYS[4], 'failed:' .. ARGV[6], 1)
        redis.call('HINCRBY', KEYS[4], 'retried', 1)
        redis.call('HINCRBY', KEYS[4], 'retried:' .. ARGV[6], 1)
        redis.call('EXPIRE', KEYS[4], 7776000)
        return 1
        """)

    /// Moves a job to the dead set, trims the dead set by age and count, releases its unique lock.
    ///
    /// KEYS[1] stream · KEYS[2] dead · KEYS[3] dead:jobs · KEYS[4] stats:<day> · KEYS[5] unique:<key>
    /// KEYS[6] `<ns>:events` · KEYS[7] answer:<id>
    /// ARGV[1] group · ARGV[2] entry id or "" · ARGV[3] job id · ARGV[4] dead envelope JSON
    /// ARGV[5] now (Unix s) · ARGV[6] max dead jobs · ARGV[7] max age (s) · ARGV[8] type
    /// ARGV[9] id that must hold the unique lock for it to be released ("" = no lock)
    /// ARGV[10] `job.dead` event data JSON · ARGV[11] events MAXLEN · ARGV[12] event time (`%.3f` s)
    /// ARGV[13] outcome JSON for the answer list ("" = the job has no `notify`) · ARGV[14] answer TTL (s)
    ///
    /// KEYS[6] is outside the queue's hash slot: the `job.dead` event is written in the same atomic step as the
    /// death on a single Redis (decision 0006); on Redis Cluster the namespace must keep `events` and the queues
    /// on one node, as the domain jobs' events already assume.
    static let kill = RedisScript(name: "kill", source: """
        if ARGV[2] ~= '' then
          redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
          redis.call('XDEL', KEYS[1], ARGV[2])
        end
        redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
        redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
        local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[5]) - tonumber(ARGV[7]), 'LIMIT', 0, 1000)
        if #old > 0 then
          redis.call('HDEL', KEYS[3], unpack(old))
          redis.call('ZREM', KEYS[2], unpack(old))
        end
        local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
        if extra > 0 then
          local gone = redis.call('ZRANGE', KEYS[2], 0, extra - 1)
          redis.call('HDEL', KEYS[3], unpack(gone))
          redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
        end
        if ARGV[9] ~= '' and redis.call('GET', KEYS[5]) == ARGV[9] then redis.call('DEL', KEYS[5]) end
        redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[11], '*', 'type', 'job.dead', 'data', ARGV[10], 'at', ARGV[12])
        if ARGV[13] ~= '' then
          redis.call('LPUSH', KEYS[7], ARGV[13])
          redis.call('EXPIRE', KEYS[7], ARGV[14])
        end
        redis.call('HINCRBY', KEYS[4], 'failed', 1)
        redis.call('HINCRBY', KEYS[4], 'failed:' .. ARGV[8], 1)
        redis.call('HINCRBY', KEYS[4], 'dead', 1)
        redis.call('HINCRBY', KEYS[4], 'dead:' .. ARGV[8], 1)
        redis.call('EXPIRE', KEYS[4], 7776000)
        return 1
        """)

    /// Hands jobs back to the queue at once (graceful shutdown): each envelope is added anew and its
    /// old delivery removed, so no worker has to wait for a lease to expire. A job that came from the scheduled
    /// set keeps its `promoted 1` field (see ``promote``): its time was already decided, and without the marker
    /// the next worker would take its `run_at` for an early arrival and defer it again.
    ///
    /// KEYS[1] stream · ARGV[1] group, then triples of (entry id, promoted `1` or `0`, envelope JSON)
    static let handBack = RedisScript(name: "hand-back", source: """
        local ids = {}
        for i = 2, #ARGV, 3 do
          if ARGV[i + 1] == '1' then
            redis.call('XADD', KEYS[1], '*', 'promoted', '1', 'job', ARGV[i + 2])
          else
            redis.call('XADD', KEYS[1], '*', 'job', ARGV[i + 2])
          end
          ids[#ids + 1] = ARGV[i]
        end
        if #ids > 0 then
          redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
          redis.call('XDEL', KEYS[1], unpack(ids))
        end
        return #ids
        """)

    /// Claims deliveries whose lease expired (their worker died or hung) for this consumer, with how
    /// many times each has been delivered, so the caller can count the lost runs as attempts.
    ///
    /// KEYS[1] stream · ARGV[1] group · ARGV[2] consumer · ARGV[3] lease (ms) · ARGV[4] max jobs
    /// Returns {{entry id, {"job", json}, deliveries}, ...}
    static let recover = RedisScript(name: "recover", source: """
        local out = {}
        local cursor = '0-0'
        for round = 1, 10 do
          local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], cursor, 'COUNT', ARGV[4])
          for _, entry in ipairs(r[2]) do
            local p = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
            local deliveries = 1
            if p[1] then deliveries = p[1][4] end
            out[#out + 1] = {entry[1], entry[2], deliveries}
          end
          cursor = r[1]
          if cursor == '0-0' or #out >= tonumber(ARGV[4]) then break end
        end
        return out
        """)

    /// Cancels a job that waits in the stream, unless a worker already holds it.
    ///
    /// KEYS[1] stream · KEYS[2] unique:<key> · ARGV[1] group · ARGV[2] entry id · ARGV[3] job id
    /// Returns 1 cancelled · 0 gone · -1 running
    static let cancelReady = RedisScript(name: "cancel-ready", source: """
        local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
        if type(p) == 'table' and p[1] then return -1 end  -- an error (no group yet) means no worker holds it
        local n = redis.call('XDEL', KEYS[1], ARGV[2])
        if n == 1 and redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
        return n
        """)

    /// Cancels a delayed job or retry.
    ///
    /// KEYS[1] scheduled · KEYS[2] scheduled:jobs · KEYS[3] unique:<key> · ARGV[1] job id
    /// Returns 1 cancelled · 0 not there
    static let cancelScheduled = RedisScript(name: "cancel-scheduled", source: """
        if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
        redis.call('HDEL', KEYS[2], ARGV[1])
        if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
        return 1
        """)

    /// Moves one dead job back to the stream with a fresh envelope (attempts reset).
    ///
    /// KEYS[1] dead · KEYS[2] dead:jobs · KEYS[3] stream · ARGV[1] job id · ARGV[2] new envelope JSON
    /// Returns 1 moved · 0 not in the dead set
    static let resurrect = RedisScript(name: "resurrect", source: """
        if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
        redis.call('HDEL', KEYS[2], ARGV[1])
        redis.call('XADD', KEYS[3], '*', 'job', ARGV[2])
        return 1
        """)
}
