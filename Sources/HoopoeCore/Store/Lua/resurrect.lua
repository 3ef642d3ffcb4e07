-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+DeadSet.swift.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'job', ARGV[2])
-- A unique job takes its lock again, while no other job holds it: its key is held while it waits, as at its enqueue.
if ARGV[3] ~= '' then redis.call('SET', KEYS[4], ARGV[1], 'NX', 'EX', ARGV[3]) end
return 1
