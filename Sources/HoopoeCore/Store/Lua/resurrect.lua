-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+DeadSet.swift.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'job', ARGV[2])
return 1
