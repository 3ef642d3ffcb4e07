-- Hoopoe SMS ledger, sms_claim_due (run by SMSLedger). Every key carries the {sms} hash tag: one Redis Cluster slot.
--
-- Claims up to ARGV[2] messages whose next poll is due (score ≤ ARGV[1]) by moving their next-poll time to
-- ARGV[3] (a lease): two overlapping poll jobs never take the same message, and a poll job that dies leaves
-- its messages to be polled again when the lease ends.
--
-- Also claims the owed `sms.failed` of `{sms}:failed_unannounced` (its score: when the message was given up) for the
-- same reason: two overlapping polls never emit one twice.
--
-- KEYS[1] `{sms}:poll` (or `{sms}:failed_unannounced`) · ARGV[1] now · ARGV[2] limit · ARGV[3] lease end. Returns the claimed message ids.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], 'XX', ARGV[3], id) end
return ids
