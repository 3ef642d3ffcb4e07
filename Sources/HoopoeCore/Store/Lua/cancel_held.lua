-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+CancelRequest.swift; history.lua is put before it.
-- The holder's answer to a cancel request (decision 0089), only while the request still stands (its canceller waits):
-- `running` says so; `cancel` settles the entry as cancel_ready.lua settles a ready one, acknowledged too.
if redis.call('HGET', KEYS[1], ARGV[2]) ~= 'requested' then return 0 end
if ARGV[1] == 'running' then
  redis.call('HSET', KEYS[1], ARGV[2], 'running')
  return 1
end
redis.call('XACK', KEYS[2], ARGV[3], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
if redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
if ARGV[5] ~= '' then history_add(KEYS[6], KEYS[5], KEYS[4], {ARGV[4], ARGV[5]}, 1, 1) end
if ARGV[6] ~= '' then
  -- pcall, as acknowledge.lua: an answer key of another type must not fail a cancel already made.
  redis.pcall('LPUSH', KEYS[7], ARGV[6])
  redis.pcall('EXPIRE', KEYS[7], ARGV[7])
end
redis.call('HSET', KEYS[1], ARGV[2], 'cancelled')
return 1
