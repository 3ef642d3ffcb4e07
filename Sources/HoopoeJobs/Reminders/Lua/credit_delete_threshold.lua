-- Hoopoe low-credit reminders, credit_delete_threshold (run by CreditThresholdStore; credit_record.lua is put before
-- it). Every key carries the {credit} hash tag.
--
-- Removes one threshold and its state, last message id and `:by` (the firing counter stays, so a re-created threshold
-- gets new message ids: an id still remembered in the SMS ledger or its once key would not be sent); forgets the user
-- when it was their last, and then lets the state hash (by now only counters) expire after ARGV[4] seconds, longer than
-- any message id it numbered is remembered. Kept for good, every user who ever had a threshold left one; a threshold
-- saved again meanwhile makes it persistent (credit_save_threshold.lua), so its counter goes on. Forgets the child email
-- its auth key resolved to and the key's mark of its last save (a cache: a threshold of another user with the same key
-- resolves it again; kept, the email outlived every threshold that named it). A threshold that named an auth key takes
-- the user's balance with it: that balance was read from the key's Brevo account, and a threshold saved later with
-- another key was evaluated against it whenever the sweep could not read the new account (budget spent, a 429): an SMS
-- quoting another account's credit.
--
-- The deleting job is kept a day (KEYS[6]): the same job run again (its event write failed) answers 1 again.
--
-- KEYS[1] thresholds:<user> · KEYS[2] state:<user> · KEYS[3] users · KEYS[4] child_email · KEYS[5] auth_key_set ·
-- KEYS[6] deleted:<user>:<threshold id> · KEYS[7] balances · ARGV[1] user · ARGV[2] threshold id · ARGV[3] job id ·
-- ARGV[4] how long the state outlives the user's last threshold, s
-- Returns 1 when the threshold existed.
local key = credit_auth_key(redis.call('HGET', KEYS[1], ARGV[2]))
if key then
  redis.call('HDEL', KEYS[4], key); redis.call('HDEL', KEYS[5], key)
  redis.call('HDEL', KEYS[7], ARGV[1])
end
local n = redis.call('HDEL', KEYS[1], ARGV[2])
if n == 1 then
  redis.call('SET', KEYS[6], ARGV[3], 'EX', 86400)
elseif redis.call('GET', KEYS[6]) == ARGV[3] then
  n = 1
end
redis.call('HDEL', KEYS[2], ARGV[2], ARGV[2] .. ':last', ARGV[2] .. ':by')
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[1])
  -- Counted from the last threshold's deletion: a delete run again (or of an unknown id) does not put it off.
  if redis.call('TTL', KEYS[2]) == -1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
end
return n
