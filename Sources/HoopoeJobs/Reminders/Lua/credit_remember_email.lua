-- Hoopoe low-credit reminders, credit_remember_email (run by CreditThresholdStore; credit_record.lua is put before it).
-- Every key carries the {credit} hash tag.
--
-- Remembers the child email an auth key resolved to, only while one of the user's thresholds still names the key:
-- the sweep resolves it over HTTP, and a threshold deleted or given another key meanwhile must not leave an email
-- that nothing names, kept for good.
--
-- KEYS[1] thresholds:<user> · KEYS[2] child_email · ARGV[1] auth key · ARGV[2] email ("" = unknown to Brevo)
-- Returns 1 when remembered.
for _, record in ipairs(redis.call('HVALS', KEYS[1])) do
  if credit_auth_key(record) == ARGV[1] then
    redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
    return 1
  end
end
return 0
