-- Hoopoe low-credit reminders, credit_record_balance (run by CreditThresholdStore; credit_record.lua is put before it).
-- Every key carries the {credit} hash tag.
--
-- Records a balance a sweep read from Brevo for a user, only while one of the user's thresholds still names the auth
-- key the sweep matched it by and no threshold was saved with that key since the sweep read its mark: the pages are
-- read over HTTP for seconds or minutes, and a threshold given another key (or none) meanwhile drops the balance; the
-- old account's balance written back then fired a low-credit SMS on another account's credits.
--
-- KEYS[1] thresholds:<user> · KEYS[2] auth_key_set · KEYS[3] balances · ARGV[1] auth key · ARGV[2] the key's mark
-- when the sweep read it ("" for none) · ARGV[3] user · ARGV[4] the balance (text)
-- Returns 1 when recorded.
if not credit_key_still_names(KEYS[1], KEYS[2], ARGV[1], ARGV[2]) then return 0 end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
return 1
