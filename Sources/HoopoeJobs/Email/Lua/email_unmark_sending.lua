-- Hoopoe email ledger, email_unmark_sending (run by EmailLedger.markSending and EmailLedger.restartWindow). Its key
-- carries the {email} hash tag.
--
-- Takes back a write of the `sending` mark (EmailLedger.markSending: `state` and `first_try`; restartWindow: a new
-- `first_try`) that too few replicas confirmed (REDIS_WAIT_REPLICAS): the request it announced does not go, and the
-- primary must not say otherwise. One step: a read, then a delete in a second command, deleted another run's mark
-- written between the two.
-- Only this run's own write, known by the `first_try` it wrote: another run's mark is not this run's to take back.
--
-- KEYS[1] `{email}:msg:<message_id>` · ARGV[1] the `first_try` this run wrote (as written) · ARGV[2] the `first_try`
-- to put back (the window's before restartWindow), or '' to take the whole mark back (markSending's: there was none)
-- Returns 1 when taken back, 0 when the record holds no such mark (nothing changed).
local fields = redis.call('HMGET', KEYS[1], 'state', 'first_try')
if fields[1] ~= 'sending' or fields[2] ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], 'state', 'first_try')
else
  redis.call('HSET', KEYS[1], 'first_try', ARGV[2])
end
return 1
