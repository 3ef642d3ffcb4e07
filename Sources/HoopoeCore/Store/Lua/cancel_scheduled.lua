-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Cancel.swift; history.lua and cancel.lua are put
-- before it.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
cancel_finish(KEYS[3], ARGV[1], KEYS[6], KEYS[5], KEYS[4], ARGV[2], KEYS[7], ARGV[3], ARGV[4])
return 1
