-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Cancel.swift; history.lua and cancel.lua are put
-- before it.
if cancel_holder(KEYS[1], ARGV[1], ARGV[2]) then return -1 end  -- a worker holds it
local n = redis.call('XDEL', KEYS[1], ARGV[2])
if n == 1 then cancel_finish(KEYS[2], ARGV[3], KEYS[5], KEYS[4], KEYS[3], ARGV[4], KEYS[6], ARGV[5], ARGV[6]) end
return n
