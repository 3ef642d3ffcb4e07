-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Settle.swift.
-- A delivery no longer pending to this worker (ARGV[11]) is another's: its lease lapsed here (a pause, a network cut)
-- and a live worker recovered it. Its outcome is that worker's to write; a retry scheduled here ran the job a third time.
if ARGV[2] ~= '' and ARGV[11] ~= '' and #redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1, ARGV[11]) == 0 then return -1 end
if ARGV[7] == '1' then
  local t = redis.call('TIME')
  if tonumber(ARGV[5]) <= tonumber(t[1]) + tonumber(t[2]) / 1000000 then return 0 end
end
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
if ARGV[2] ~= '' then
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
end
-- A unique job's lock is held until the job finishes, and its enqueue gave it a day past the first run only: a retry
-- due later than the lock would live pushes its expiry to ARGV[10] seconds (a day past the retry), while it is this job's.
if ARGV[10] ~= '' and redis.call('GET', KEYS[6]) == ARGV[3] then
  local ttl = redis.call('TTL', KEYS[6])
  if ttl >= 0 and ttl < tonumber(ARGV[10]) then redis.call('EXPIRE', KEYS[6], ARGV[10]) end
end
-- Counters (as in acknowledge.lua): per type for the day, and the minute's; the totals are summed when read. A key's
-- TTL is set when a field it gets is new (the key is new then too), not on every call.
for i = 12, #ARGV do
  if redis.call('HINCRBY', KEYS[4], ARGV[i] .. ':' .. ARGV[6], 1) == 1 then redis.call('EXPIRE', KEYS[4], 7776000) end
  if redis.call('HINCRBY', KEYS[5], ARGV[8] .. ':' .. ARGV[i], 1) == 1 then redis.call('EXPIRE', KEYS[5], ARGV[9]) end
end
return 1
