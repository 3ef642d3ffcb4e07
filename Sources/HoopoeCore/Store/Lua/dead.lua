-- The dead set's caps (WorkerOptions.deadMaxJobs and deadMaxAge), put before kill.lua, which trims as it buries, and
-- dead_upkeep.lua, which each worker runs on its queues once a minute: one copy of the rule for both. Without the
-- second a queue whose jobs stopped dying kept its dead jobs, payloads and all, past their age (session 44).
--   set   SORTED SET dead job id -> when it died (Unix s, the burying worker's clock, never below the newest before it)
--   jobs  HASH dead job id -> its envelope

-- Removes the jobs that died before `cutoff`, then the oldest beyond `max_jobs`, with their envelopes: at most 1000 of
-- each a call (a lowered cap shrinks the set over a few calls; `unpack` of more than ~8000 values fails). Returns how
-- many went.
local function dead_trim(set, jobs, cutoff, max_jobs)
  local removed = 0
  local old = redis.call('ZRANGEBYSCORE', set, '-inf', cutoff, 'LIMIT', 0, 1000)
  if #old > 0 then
    redis.call('HDEL', jobs, unpack(old))
    redis.call('ZREM', set, unpack(old))
    removed = #old
  end
  local extra = math.min(redis.call('ZCARD', set) - max_jobs, 1000)
  if extra > 0 then
    local gone = redis.call('ZRANGE', set, 0, extra - 1)
    redis.call('HDEL', jobs, unpack(gone))
    redis.call('ZREMRANGEBYRANK', set, 0, extra - 1)
    removed = removed + #gone
  end
  return removed
end
