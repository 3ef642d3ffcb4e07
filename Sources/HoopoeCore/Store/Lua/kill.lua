-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Settle.swift.
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
if ARGV[10] ~= '' then
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[11], '*', 'type', 'job.dead', 'data', ARGV[10], 'at', ARGV[12])
end
if ARGV[13] ~= '' then
  redis.call('LPUSH', KEYS[7], ARGV[13])
  redis.call('EXPIRE', KEYS[7], ARGV[14])
end
-- Counters; a key's TTL is set when its first field is written (as in acknowledge.lua), not on every call.
if redis.call('HINCRBY', KEYS[4], 'failed', 1) == 1 then redis.call('EXPIRE', KEYS[4], 7776000) end
redis.call('HINCRBY', KEYS[4], 'failed:' .. ARGV[8], 1)
redis.call('HINCRBY', KEYS[4], 'dead', 1)
redis.call('HINCRBY', KEYS[4], 'dead:' .. ARGV[8], 1)
if redis.call('HINCRBY', KEYS[8], 'failed', 1) == 1 then redis.call('EXPIRE', KEYS[8], ARGV[16]) end
redis.call('HINCRBY', KEYS[8], ARGV[15] .. ':failed', 1)
redis.call('HINCRBY', KEYS[8], 'dead', 1)
redis.call('HINCRBY', KEYS[8], ARGV[15] .. ':dead', 1)
-- Job history (as in acknowledge.lua): the record, the trim by age (a dead job is rare: on every call), and by count
-- once the history is over its cap by more than 1 % (down to the cap, at most 1000 a call).
if ARGV[17] ~= '' then
  local now = tonumber(ARGV[5])
  redis.call('ZADD', KEYS[9], now, ARGV[3])
  redis.call('HSET', KEYS[10], ARGV[3], ARGV[17])
  local stale = redis.call('ZRANGEBYSCORE', KEYS[9], '-inf', now - tonumber(ARGV[19]), 'LIMIT', 0, 1000)
  if #stale > 0 then
    redis.call('HDEL', KEYS[10], unpack(stale))
    redis.call('ZREM', KEYS[9], unpack(stale))
  end
  local cap = tonumber(ARGV[18])
  local size = redis.call('ZCARD', KEYS[9])
  if size > cap + math.floor(cap / 100) then
    local over = math.min(size - cap, 1000)
    redis.call('HDEL', KEYS[10], unpack(redis.call('ZRANGE', KEYS[9], 0, over - 1)))
    redis.call('ZREMRANGEBYRANK', KEYS[9], 0, over - 1)
  end
end
return 1
