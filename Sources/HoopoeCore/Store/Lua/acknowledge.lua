-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Settle.swift.
local n = tonumber(ARGV[2])
local u = tonumber(ARGV[3])
local a = tonumber(ARGV[4])
local h = tonumber(ARGV[8])
local pos = 12
if n > 0 then
  local ids = {unpack(ARGV, pos, pos + n - 1)}
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
  redis.call('XDEL', KEYS[1], unpack(ids))
end
pos = pos + n
for i = 6, 5 + u do
  if redis.call('GET', KEYS[i]) == ARGV[pos] then redis.call('DEL', KEYS[i]) end
  pos = pos + 1
end
for i = 6 + u, 5 + u + a do
  redis.call('LPUSH', KEYS[i], ARGV[pos])
  redis.call('EXPIRE', KEYS[i], ARGV[5])
  pos = pos + 1
end
-- Job history: each record under its id, scored by its finish time, then trimmed by age and count (at most
-- 1000 members a call, so a lowered cap is reached over a few calls instead of one long script).
if h > 0 then
  local now = tonumber(ARGV[11])
  for i = 1, h do
    redis.call('ZADD', KEYS[4], now, ARGV[pos])
    redis.call('HSET', KEYS[5], ARGV[pos], ARGV[pos + 1])
    pos = pos + 2
  end
  local old = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[10]), 'LIMIT', 0, 1000)
  if #old > 0 then
    redis.call('HDEL', KEYS[5], unpack(old))
    redis.call('ZREM', KEYS[4], unpack(old))
  end
  local extra = math.min(redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[9]), 1000)
  if extra > 0 then
    redis.call('HDEL', KEYS[5], unpack(redis.call('ZRANGE', KEYS[4], 0, extra - 1)))
    redis.call('ZREMRANGEBYRANK', KEYS[4], 0, extra - 1)
  end
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
  redis.call('HINCRBY', KEYS[3], field, total)
  redis.call('HINCRBY', KEYS[3], ARGV[6] .. ':' .. field, total)
  redis.call('EXPIRE', KEYS[3], ARGV[7])
end
return n
