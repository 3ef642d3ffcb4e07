-- Hoopoe low-credit reminders, credit_delete_threshold (run by CreditThresholdStore). Every key carries the {credit} hash tag.
--
-- Removes one threshold and its state (the firing counter stays, so a re-created threshold gets new message
-- ids); forgets the user when it was their last.
--
-- KEYS[1] thresholds:<user> · KEYS[2] state:<user> · KEYS[3] users · ARGV[1] user · ARGV[2] threshold id
-- Returns 1 when the threshold existed.
local n = redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[1]) end
return n
