-- Hoopoe SMS ledger, sms_unlock (run by SMSLedger). Every key carries the {sms} hash tag: one Redis Cluster slot.
--
-- Releases a per-message send lock only if this run holds it.
--
-- KEYS[1] `{sms}:lock:<message id>` · ARGV[1] the holder's token. Returns 1 when released.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
