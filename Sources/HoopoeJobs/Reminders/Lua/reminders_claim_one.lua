-- Hoopoe expiration reminders, reminders_claim_one (run by SubscriptionStore). Every key carries the {reminders} hash tag.
--
-- Takes one due reminder for the upsert that scheduled it (``ExpirationSchedule/Plan/missed``): moved from due
-- to claimed if it is still due, so it is released once whether the upsert or a sweep gets there first.
--
-- KEYS[1] due · KEYS[2] claimed · ARGV[1] member. Returns 1 when this call took it.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(t[1]), ARGV[1])
return 1
