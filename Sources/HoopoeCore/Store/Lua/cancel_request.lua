-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+CancelRequest.swift.
-- Asks the worker that holds a ready job's entry to cancel it if it has not started (decision 0089): only while the
-- entry is still pending, so a request is never left for an entry already settled or handed back.
local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if type(p) ~= 'table' or not p[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], 'requested')
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
