-- Hoopoe expiration reminders, reminders_claim_one (run by SubscriptionStore). Every key carries the {reminders} hash tag.
--
-- Takes one due reminder for the upsert that scheduled it (``ExpirationSchedule/Plan/missed``): moved from due
-- to claimed if it is still due, so it is released once whether the upsert or a sweep gets there first. A claim this
-- job made and did not finish (KEYS[3], as in reminders_claim.lua: its release failed, and this is its retry) is taken
-- back; left to its lease, it waited for the next day's sweep.
--
-- KEYS[1] due · KEYS[2] claimed · KEYS[3] claims:<job id> · ARGV[1] member. Returns 1 when this call took it.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  local claimed = redis.call('ZSCORE', KEYS[2], ARGV[1])
  if not claimed or redis.call('HGET', KEYS[3], ARGV[1]) ~= claimed then return 0 end
end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(t[1]), ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], t[1])
redis.call('EXPIRE', KEYS[3], 172800)
return 1
