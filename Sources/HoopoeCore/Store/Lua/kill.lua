-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Settle.swift; history.lua and dead.lua are put
-- before it.
-- The dead copy first, the delivery's removal after it: a script stops at its first error without undoing what ran,
-- so a dead set Redis refuses (a key of another type) leaves the job delivered, to run again after its lease, not gone.
-- Scored by the burying worker's clock, but never below the newest death already there: a worker whose clock ran
-- behind the others' gave its job the lowest score, and with the set at its cap the count trim below removed it at once.
-- A delivery no longer pending to this worker (ARGV[20]) is another's (reschedule.lua): a job buried here while the
-- worker that recovered it ran it would be dead though it succeeded, its lock released while it ran.
if ARGV[2] ~= '' and ARGV[20] ~= '' and #redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1, ARGV[20]) == 0 then return -1 end
local score = tonumber(ARGV[5])
local newest = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) > score then score = tonumber(newest[2]) end
redis.call('ZADD', KEYS[2], score, ARGV[3])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
if ARGV[2] ~= '' then
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
end
dead_trim(KEYS[2], KEYS[3], tonumber(ARGV[5]) - tonumber(ARGV[7]), tonumber(ARGV[6]))
if ARGV[9] ~= '' and redis.call('GET', KEYS[5]) == ARGV[9] then redis.call('DEL', KEYS[5]) end
if ARGV[10] ~= '' then
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[11], '*', 'type', 'job.dead', 'data', ARGV[10], 'at', ARGV[12])
end
if ARGV[13] ~= '' then
  redis.call('LPUSH', KEYS[7], ARGV[13])
  redis.call('EXPIRE', KEYS[7], ARGV[14])
end
-- Counters (as in acknowledge.lua): per type for the day, and the minute's; the totals are summed when read. A key's
-- TTL is set when the first field it gets is new (the key is new then too).
if redis.call('HINCRBY', KEYS[4], 'failed:' .. ARGV[8], 1) == 1 then redis.call('EXPIRE', KEYS[4], 7776000) end
redis.call('HINCRBY', KEYS[4], 'dead:' .. ARGV[8], 1)
if redis.call('HINCRBY', KEYS[8], ARGV[15] .. ':failed', 1) == 1 then redis.call('EXPIRE', KEYS[8], ARGV[16]) end
redis.call('HINCRBY', KEYS[8], ARGV[15] .. ':dead', 1)
-- Job history (as in acknowledge.lua): the record, the trim by age (a death is rare: on every call), and by count
-- once the history is over its cap by more than 1 %.
if ARGV[17] ~= '' then
  local size = history_add(KEYS[11], KEYS[10], KEYS[9], {ARGV[3], ARGV[17]}, 1, 1)
  history_trim(KEYS[11], KEYS[10], KEYS[9], size, tonumber(ARGV[18]), tonumber(ARGV[19]), tonumber(ARGV[5]), true)
end
return 1
