-- Hoopoe SMS ledger, sms_reserve_daily_slot (run by SMSLedger). Every key carries the {sms} hash tag: one Redis Cluster slot.
--
-- Takes one of a recipient's daily slots for a message, idempotently: a message already counted today keeps
-- its slot (a retry is not a second message).
--
-- KEYS[1] `{sms}:cap:<phone>:<day>` (set of message ids) · ARGV[1] message id · ARGV[2] cap · ARGV[3] TTL seconds
-- Returns 1 when the message may be sent, 0 when the cap is reached.
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
