-- KEYS and ARGV: see the Swift property that runs it, RedisLastTickStore.advanceScript.
local clock = redis.call('TIME')
local latest = tonumber(clock[1]) + (tonumber(ARGV[2]) or 60)
local current = tonumber(redis.call('GET', KEYS[1]))
-- A value outside 0 to the end of the year 9999 is not a tick (RedisLastTickStore.latestTick): overwritten, as garbage is.
-- Nor is one later than Redis's clock by more than the grace period: a scheduler whose clock ran ahead wrote it.
if current and (current < 0 or current > 253402300799 or current > latest) then current = nil end
local proposed = tonumber(ARGV[1])
if proposed > latest then return -1 end
-- The tick's job must still be known where it was enqueued: its once-key gone means the enqueue's write was lost.
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[2]) == 0 then return -2 end
if current == nil or proposed > current then
  -- The schedule the tick was handled under goes with it.
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[3], ARGV[4])
  if current == nil then return 2 end
  return 1
end
-- At the same tick under another schedule (a task whose cron changed, started in the second of its last tick): the
-- schedule is rewritten, else each wake-up until the next tick would find it changed again.
if proposed == current and redis.call('GET', KEYS[3]) ~= ARGV[4] then
  redis.call('SET', KEYS[3], ARGV[4])
  return 1
end
return 0
