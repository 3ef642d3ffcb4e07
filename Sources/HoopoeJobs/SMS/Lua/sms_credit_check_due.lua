-- Hoopoe SMS ledger, sms_credit_check_due (run by SMSLedger). Every key carries the {sms} hash tag: one Redis Cluster slot.
--
-- Answers whether the periodic credit check is due and, if so, marks it done now (one poll job checks).
--
-- KEYS[1] `{sms}:credit` (hash) · ARGV[1] now · ARGV[2] interval seconds. Returns 1 when due.
local last = tonumber(redis.call('HGET', KEYS[1], 'checked_at') or '')
local now = tonumber(ARGV[1])
if last and now - last < tonumber(ARGV[2]) and now >= last then return 0 end
redis.call('HSET', KEYS[1], 'checked_at', ARGV[1])
return 1
