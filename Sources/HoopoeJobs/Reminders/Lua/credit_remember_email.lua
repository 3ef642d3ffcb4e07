-- Hoopoe low-credit reminders, credit_remember_email (run by CreditThresholdStore; credit_record.lua is put before it).
-- Every key carries the {credit} hash tag.
--
-- Remembers the child email an auth key resolved to, only while one of the user's thresholds still names the key
-- and no threshold was saved with it since the sweep looked it up: the sweep resolves it over HTTP; a threshold
-- deleted or given another key meanwhile must not leave an email that nothing names, kept for good, and one saved
-- again with the key (which asks for a fresh resolve) must not have the older answer written back, above all a 404's
-- "unknown", which would stand until the next save.
--
-- KEYS[1] thresholds:<user> · KEYS[2] child_email · KEYS[3] auth_key_set · ARGV[1] auth key · ARGV[2] email ("" =
-- unknown to Brevo) · ARGV[3] the key's mark in auth_key_set when the sweep looked it up ("" for none)
-- Returns 1 when remembered.
if not credit_key_still_names(KEYS[1], KEYS[3], ARGV[1], ARGV[3]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
