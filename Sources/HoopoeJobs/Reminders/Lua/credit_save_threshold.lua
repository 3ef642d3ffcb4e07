-- Hoopoe low-credit reminders, credit_save_threshold (run by CreditThresholdStore; credit_record.lua is put before it).
-- Every key carries the {credit} hash tag.
--
-- Saves one threshold and counts the user in. With an auth key, forgets the child email learnt for it (an unknown key
-- may be known now: resolved again on the next read) and marks the key set now (auth_key_set: Redis's time, a token
-- no earlier save had), so a sweep whose request for the key was out meanwhile does not write its older answer back
-- (credit_remember_email.lua); when the threshold had another auth key before, forgets that one's email and mark too
-- (nothing names it any more), and the user's balance read with it (another account's now). One script, so two saves
-- of one threshold at once cannot leave an old key's email behind. The user's state hash, set to expire when their last
-- threshold was deleted (credit_delete_threshold.lua), is kept again: its counters go on numbering message ids.
--
-- KEYS[1] thresholds:<user> · KEYS[2] users · KEYS[3] child_email · KEYS[4] auth_key_set · KEYS[5] balances ·
-- KEYS[6] state:<user> · ARGV[1] user · ARGV[2] threshold id · ARGV[3] its JSON · ARGV[4] its auth key ("" for none)
local previous = redis.call('HGET', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PERSIST', KEYS[6])
if ARGV[4] ~= '' then
  redis.call('HDEL', KEYS[3], ARGV[4])
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[4], ARGV[4], t[1] .. '.' .. t[2])
end
local old = credit_auth_key(previous)
if old and old ~= ARGV[4] then
  redis.call('HDEL', KEYS[3], old)
  redis.call('HDEL', KEYS[4], old)
  redis.call('HDEL', KEYS[5], ARGV[1])
end
return 1
