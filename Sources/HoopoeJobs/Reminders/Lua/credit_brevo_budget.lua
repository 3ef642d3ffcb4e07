-- Hoopoe low-credit reminders, credit_brevo_budget (run by CreditThresholdStore). Every key carries the {credit} hash tag.
--
-- Takes one unit of the hourly Brevo budget. KEYS[1] budget:<hour> · ARGV[1] limit.
-- Returns the units left after this one, or -1 when the budget is spent.
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return -1 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 7200)
return tonumber(ARGV[1]) - used - 1
