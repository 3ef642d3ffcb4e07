-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+RunNow.swift.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local job = redis.call('HGET', KEYS[2], ARGV[1])
if not job then return -1 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'promoted', '1', 'job', job)
return 1
