-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+RunNow.swift.
-- The job is written to the stream before it leaves the scheduled set: Redis keeps a script's writes made before an
-- error, so an XADD refused (a key of the wrong type, OOM) must find the job still where it was, not gone from both.
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local job = redis.call('HGET', KEYS[2], ARGV[1])
if not job then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return -1
end
redis.call('XADD', KEYS[3], '*', 'promoted', '1', 'job', job)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
