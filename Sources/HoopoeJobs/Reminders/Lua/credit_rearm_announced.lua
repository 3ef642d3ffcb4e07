-- Hoopoe low-credit reminders, credit_rearm_announced (run by CreditThresholdStore). Every key carries the {credit} hash
-- tag.
--
-- A threshold's reminder.rearmed is on the events stream: `rearming` becomes `armed` (credit_evaluate.lua hands a
-- `rearming` threshold back until then). Any other state (fired again meanwhile, deleted) is left as it is.
--
-- KEYS[1] state:<user> · ARGV[1] threshold id
if redis.call('HGET', KEYS[1], ARGV[1]) == 'rearming' then redis.call('HSET', KEYS[1], ARGV[1], 'armed') end
return 0
