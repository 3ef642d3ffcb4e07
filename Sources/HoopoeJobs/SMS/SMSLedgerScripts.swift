import Redis

/// The SMS area's Lua scripts: each state change that must be atomic is one call. Every key a script touches
/// carries the `{sms}` hash tag (one Redis Cluster slot).
enum SMSLedgerScripts {
    /// Takes one of a recipient's daily slots for a message, idempotently: a message already counted today keeps
    /// its slot (a retry is not a second message).
    ///
    /// KEYS[1] `{sms}:cap:<phone>:<day>` (set of message ids) · ARGV[1] message id · ARGV[2] cap · ARGV[3] TTL seconds
    /// Returns 1 when the message may be sent, 0 when the cap is reached.
    static let reserveDailySlot = RedisScript(name: "sms.reserve_daily_slot", source: """
        if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
        if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
        redis.call('SADD', KEYS[1], ARGV[1])
        redis.call('EXPIRE', KEYS[1], ARGV[3])
        return 1
        """)

    /// Releases a per-message send lock only if this run holds it.
    ///
    /// KEYS[1] `{sms}:lock:<message id>` · ARGV[1] the holder's token. Returns 1 when released.
    static let unlock = RedisScript(name: "sms.unlock", source: """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)

    /// Claims up to ARGV[2] messages whose next poll is due (score ≤ ARGV[1]) by moving their next-poll time to
    /// ARGV[3] (a lease): two overlapping poll jobs never take the same message, and a poll job that dies leaves
    /// its messages to be polled again when the lease ends.
    ///
    /// KEYS[1] `{sms}:poll` · ARGV[1] now · ARGV[2] limit · ARGV[3] lease end. Returns the claimed message ids.
    static let claimDue = RedisScript(name: "sms.claim_due", source: """
        local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], 'XX', ARGV[3], id) end
        return ids
        """)

    /// Records one poll's result for one message: state, raw status, poll count; then the next poll time, or out
    /// of the poll set when the state is final.
    ///
    /// KEYS[1] `{sms}:msg:<id>` · KEYS[2] `{sms}:poll`
    /// ARGV[1] message id · ARGV[2] state · ARGV[3] raw status · ARGV[4] `1` when final · ARGV[5] next poll time
    /// ARGV[6] now · ARGV[7] `1` to count a poll
    /// Returns 1 when the state changed (the caller emits `sms.status`), 0 when not, -1 when the message is unknown.
    static let applyStatus = RedisScript(name: "sms.apply_status", source: """
        if redis.call('EXISTS', KEYS[1]) == 0 then
          redis.call('ZREM', KEYS[2], ARGV[1])
          return -1
        end
        local old = redis.call('HGET', KEYS[1], 'delivery')
        if ARGV[7] == '1' then redis.call('HINCRBY', KEYS[1], 'polls', 1) end
        redis.call('HSET', KEYS[1], 'delivery', ARGV[2], 'raw_status', ARGV[3], 'polled_at', ARGV[6])
        if ARGV[4] == '1' then
          redis.call('ZREM', KEYS[2], ARGV[1])
        else
          redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
        end
        if old ~= ARGV[2] then return 1 end
        return 0
        """)

    /// Answers whether the periodic credit check is due and, if so, marks it done now (one poll job checks).
    ///
    /// KEYS[1] `{sms}:credit` (hash) · ARGV[1] now · ARGV[2] interval seconds. Returns 1 when due.
    static let creditCheckDue = RedisScript(name: "sms.credit_check_due", source: """
        local last = tonumber(redis.call('HGET', KEYS[1], 'checked_at') or '')
        local now = tonumber(ARGV[1])
        if last and now - last < tonumber(ARGV[2]) and now >= last then return 0 end
        redis.call('HSET', KEYS[1], 'checked_at', ARGV[1])
        return 1
        """)
}
