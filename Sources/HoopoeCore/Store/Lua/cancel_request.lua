-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+CancelRequest.swift; cancel.lua is put before it.
-- Asks the worker that holds a ready job's entry to cancel it if it has not started (decision 0089): only while the
-- entry is still pending, so a request is never left for an entry already settled or handed back. The request is
-- `requested <ms>`, its deadline by Redis's clock: a holder ignores one past it (its canceller is gone).
if not cancel_holder(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], 'requested ' .. (cancel_now_ms() + tonumber(ARGV[4])))
-- Never shortened: a request with a long wait beside one with a short wait keeps its time (EXPIRE GT needs Redis 7).
if redis.call('TTL', KEYS[2]) < tonumber(ARGV[3]) then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return 1
