-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Forget.swift.
-- What the queue holds is counted and its keys removed in one script, so a job enqueued, promoted or buried between
-- the count and the removal is either counted (and the queue kept) or cannot happen: nothing of a job goes unsaid.
-- The stream keeps only entries pending or not yet delivered (acknowledged ones are trimmed or deleted), so its length
-- is the ready jobs plus those in flight.
-- After a forced run that removed jobs it runs again, unforced, over the keys a second scan found: the unique locks and
-- once keys of jobs enqueued between the first scan and the first run, which that scan could not list.
local length = redis.call('XLEN', KEYS[1])
local pending = 0
if length > 0 then
  -- No group yet (no worker ever read the stream): nothing is in flight.
  local summary = redis.pcall('XPENDING', KEYS[1], ARGV[2])
  if type(summary) == 'table' and not summary.err then pending = tonumber(summary[1]) or 0 end
end
-- A job's envelope without its place in the set (a partial write by hand) is still a job `hoopoe job show` finds: counted.
local scheduled = math.max(redis.call('ZCARD', KEYS[2]), redis.call('HLEN', KEYS[4]))
local dead = math.max(redis.call('ZCARD', KEYS[3]), redis.call('HLEN', KEYS[5]))
if ARGV[1] ~= '1' and length + scheduled + dead > 0 then
  return {0, length - pending, pending, scheduled, dead, 0}
end
-- UNLINK, not DEL: a job history of many records is freed off Redis's main thread. In slices, as unpack is bounded.
local removed = 0
for i = 1, #KEYS, 500 do
  removed = removed + redis.call('UNLINK', unpack(KEYS, i, math.min(i + 499, #KEYS)))
end
return {1, length - pending, pending, scheduled, dead, removed}
