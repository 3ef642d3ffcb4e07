-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+CancelRequest.swift.
-- Asks the worker that holds a ready job's entry to cancel it if it has not started (decision 0089): only while the
-- entry is still pending, so a request is never left for an entry already settled or handed back. The request is
-- `requested <ms>`, its deadline by Redis's clock: a holder ignores one past it (its canceller is gone).
local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if type(p) ~= 'table' or not p[1] then return 0 end
local t = redis.call('TIME')
local deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[4])
redis.call('HSET', KEYS[2], ARGV[2], 'requested ' .. deadline)
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
