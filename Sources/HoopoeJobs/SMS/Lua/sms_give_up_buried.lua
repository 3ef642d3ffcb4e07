-- KEYS and ARGV: see SMSLedger.giveUpBuried (SMSLedger.swift). A buried sms.send's message given up unless settled:
-- `unknown` when a send's note is still there (`unknown_provider`) or a lost send went unchecked (`unchecked_send`:
-- Kavenegar's outbox answered 407, so it may have gone out), else `failed`; `announced` cleared, and the message added
-- to KEYS[2] (scored by ARGV[6]) until its sms.failed is on the stream: nothing runs a buried job again.
-- KEYS[1] `{sms}:msg:<id>` · KEYS[2] `{sms}:failed_unannounced`
-- ARGV[1] failed reason · ARGV[2] unknown reason · ARGV[3] user id · ARGV[4] purpose · ARGV[5] the record's TTL (s)
-- ARGV[6] now (domain Unix s) · ARGV[7] message id. Returns {state, reason}, or 0 when settled (nothing written).
local fields = redis.call('HMGET', KEYS[1], 'state', 'cancelled', 'unknown_provider', 'unchecked_send')
if fields[2] == '1' or (fields[1] and fields[1] ~= '') then return 0 end
local state, reason = 'failed', ARGV[1]
if (fields[3] and fields[3] ~= '') or fields[4] == '1' then state, reason = 'unknown', ARGV[2] end
redis.call('HSET', KEYS[1], 'state', state, 'reason', reason, 'user_id', ARGV[3], 'purpose', ARGV[4])
redis.call('HDEL', KEYS[1], 'announced')
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[7])
return {state, reason}
