-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+CancelRequest.swift; history.lua and cancel.lua are
-- put before it.
-- The holder's answer to a cancel request (decision 0089), only while the request stands (its canceller waits: before
-- its deadline) and the entry is still pending to this holder: `running` says so; `cancel` settles the entry as
-- cancel_ready.lua settles a ready one, acknowledged too. A request past its deadline is removed.
local request = redis.call('HGET', KEYS[1], ARGV[2])
if type(request) ~= 'string' then return 0 end
local deadline = tonumber(string.match(request, '^requested (%d+)$'))
if not deadline then return 0 end
if cancel_now_ms() > deadline then
  redis.call('HDEL', KEYS[1], ARGV[2])
  return 0
end
if cancel_holder(KEYS[2], ARGV[3], ARGV[2]) ~= ARGV[8] then return 0 end
if ARGV[1] == 'running' then
  redis.call('HSET', KEYS[1], ARGV[2], 'running')
  return 1
end
redis.call('XACK', KEYS[2], ARGV[3], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
cancel_finish(KEYS[3], ARGV[4], KEYS[6], KEYS[5], KEYS[4], ARGV[5], KEYS[7], ARGV[6], ARGV[7])
redis.call('HSET', KEYS[1], ARGV[2], 'cancelled')
return 1
