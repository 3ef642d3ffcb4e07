import Redis

/// The reminders' Lua scripts: every state change that must not be seen half-done is one script call.
enum ReminderScripts {
    /// Records a subscription; on a new expiry (a renewal) drops the old expiry's pending reminders and hands back
    /// the `sms.send` jobs already released for it, to cancel.
    ///
    /// KEYS[1] sub:<user> · KEYS[2] due · KEYS[3] jobs:<user>
    /// ARGV[1] user · ARGV[2] expires_at · ARGV[3] phone · ARGV[4] first_name · ARGV[5] plan · ARGV[6] receipt_id
    /// ARGV[7] updated_at · ARGV[8] TTL seconds · ARGV[9] email ('' for none) · ARGV[10..] offset, due score pairs
    /// Returns {'same'|'new'|'renewed', old expires_at or '', removed count, '<queue>|<id>'...}
    static let upsert = RedisScript(name: "reminders.upsert", source: """
        local old = redis.call('HGET', KEYS[1], 'expires_at')
        local oldOffsets = redis.call('HGET', KEYS[1], 'offsets') or ''
        redis.call('HSET', KEYS[1], 'phone', ARGV[3], 'first_name', ARGV[4], 'plan', ARGV[5], 'receipt_id', ARGV[6],
          'updated_at', ARGV[7], 'email', ARGV[9])
        if old == ARGV[2] then
          redis.call('EXPIRE', KEYS[1], ARGV[8])
          return {'same', old, 0}
        end
        local result = {old and 'renewed' or 'new', old or '', 0}
        if old then
          local removed = 0
          for o in string.gmatch(oldOffsets, '[^,]+') do
            removed = removed + redis.call('ZREM', KEYS[2], o .. '|' .. old .. '|' .. ARGV[1])
          end
          result[3] = removed
          local jobs = redis.call('HGETALL', KEYS[3])
          for i = 1, #jobs, 2 do
            if string.sub(jobs[i], 1, #ARGV[2] + 1) ~= ARGV[2] .. '|' then
              table.insert(result, jobs[i + 1])
              redis.call('HDEL', KEYS[3], jobs[i])
            end
          end
        end
        local scheduled = {}
        for i = 10, #ARGV, 2 do
          redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i] .. '|' .. ARGV[2] .. '|' .. ARGV[1])
          table.insert(scheduled, ARGV[i])
        end
        redis.call('HSET', KEYS[1], 'expires_at', ARGV[2], 'offsets', table.concat(scheduled, ','))
        redis.call('EXPIRE', KEYS[1], ARGV[8])
        return result
        """)

    /// Forgets a subscription: its pending reminders, and hands back its released `sms.send` jobs to cancel.
    ///
    /// KEYS[1] sub:<user> · KEYS[2] due · KEYS[3] jobs:<user> · ARGV[1] user
    /// Returns {existed (0/1), removed count, '<queue>|<id>'...}
    static let delete = RedisScript(name: "reminders.delete", source: """
        local old = redis.call('HGET', KEYS[1], 'expires_at')
        local result = {old and 1 or 0, 0}
        if old then
          local offsets = redis.call('HGET', KEYS[1], 'offsets') or ''
          for o in string.gmatch(offsets, '[^,]+') do
            result[2] = result[2] + redis.call('ZREM', KEYS[2], o .. '|' .. old .. '|' .. ARGV[1])
          end
        end
        local jobs = redis.call('HGETALL', KEYS[3])
        for i = 2, #jobs, 2 do table.insert(result, jobs[i]) end
        redis.call('DEL', KEYS[1], KEYS[3])
        return result
        """)

    /// Takes due reminders for one sweep: first claims whose lease ran out (a sweep that died), then reminders due
    /// by the domain time. Moving a member from due to claimed is atomic, so two sweeps never take the same one.
    ///
    /// KEYS[1] due · KEYS[2] claimed · ARGV[1] domain now (Unix s) · ARGV[2] max members · ARGV[3] lease seconds
    /// Returns the members taken.
    static let claim = RedisScript(name: "reminders.claim", source: """
        local t = redis.call('TIME')
        local real = tonumber(t[1])
        local limit = tonumber(ARGV[2])
        local out = {}
        local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', real - tonumber(ARGV[3]), 'LIMIT', 0, limit)
        for _, m in ipairs(stale) do
          redis.call('ZADD', KEYS[2], real, m)
          table.insert(out, m)
        end
        if #out < limit then
          local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, limit - #out)
          for _, m in ipairs(due) do
            redis.call('ZREM', KEYS[1], m)
            redis.call('ZADD', KEYS[2], real, m)
            table.insert(out, m)
          end
        end
        return out
        """)

    /// Takes one due reminder for the upsert that scheduled it (``ExpirationSchedule/Plan/missed``): moved from due
    /// to claimed if it is still due, so it is released once whether the upsert or a sweep gets there first.
    ///
    /// KEYS[1] due · KEYS[2] claimed · ARGV[1] member. Returns 1 when this call took it.
    static let claimOne = RedisScript(name: "reminders.claim_one", source: """
        if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
        local t = redis.call('TIME')
        redis.call('ZADD', KEYS[2], tonumber(t[1]), ARGV[1])
        return 1
        """)

    /// Compares one user's balance with each of their thresholds and flips the state atomically: an armed threshold
    /// the balance is below fires (state `fired`, an SMS put in the outbox under a fresh message id); a fired one
    /// the balance is at or above re-arms.
    ///
    /// KEYS[1] thresholds:<user> · KEYS[2] state:<user> · KEYS[3] balances · KEYS[4] outbox · ARGV[1] user
    /// Returns {'fired', threshold id, message id, ...} and {'rearmed', threshold id, ''} triples.
    static let evaluate = RedisScript(name: "reminders.low_credit.evaluate", source: """
        local balanceText = redis.call('HGET', KEYS[3], ARGV[1])
        if not balanceText then return {} end
        local balance = tonumber(balanceText)
        local out = {}
        local all = redis.call('HGETALL', KEYS[1])
        for i = 1, #all, 2 do
          local id = all[i]
          local t = cjson.decode(all[i + 1])
          local state = redis.call('HGET', KEYS[2], id) or 'armed'
          if balance < tonumber(t.threshold) then
            if state == 'armed' then
              local n = redis.call('HINCRBY', KEYS[2], id .. ':n', 1)
              redis.call('HSET', KEYS[2], id, 'fired')
              local mid = 'reminder.low_credit:' .. ARGV[1] .. ':' .. id .. ':' .. n
              redis.call('HSET', KEYS[4], mid, cjson.encode({message_id = mid, user_id = ARGV[1], threshold_id = id,
                threshold = t.threshold, balance = balanceText, phone = t.phone, first_name = t.first_name}))
              table.insert(out, 'fired'); table.insert(out, id); table.insert(out, mid)
            end
          elseif state ~= 'armed' then
            redis.call('HSET', KEYS[2], id, 'armed')
            table.insert(out, 'rearmed'); table.insert(out, id); table.insert(out, '')
          end
        end
        return out
        """)

    /// Removes one threshold and its state (the firing counter stays, so a re-created threshold gets new message
    /// ids); forgets the user when it was their last.
    ///
    /// KEYS[1] thresholds:<user> · KEYS[2] state:<user> · KEYS[3] users · ARGV[1] user · ARGV[2] threshold id
    /// Returns 1 when the threshold existed.
    static let deleteThreshold = RedisScript(name: "reminders.low_credit.delete", source: """
        local n = redis.call('HDEL', KEYS[1], ARGV[2])
        redis.call('HDEL', KEYS[2], ARGV[2])
        if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[1]) end
        return n
        """)

    /// Takes one unit of the hourly Brevo budget. KEYS[1] budget:<hour> · ARGV[1] limit.
    /// Returns the units left after this one, or -1 when the budget is spent.
    static let takeBudget = RedisScript(name: "reminders.brevo_budget", source: """
        local used = tonumber(redis.call('GET', KEYS[1]) or '0')
        if used >= tonumber(ARGV[1]) then return -1 end
        redis.call('INCR', KEYS[1])
        redis.call('EXPIRE', KEYS[1], 7200)
        return tonumber(ARGV[1]) - used - 1
        """)
}
