-- KEYS and ARGV: see SMSLedger.giveUpBuried (SMSLedger.swift). A buried sms.send's message given up unless settled:
-- `unknown` when a send's note is still there (`unknown_provider`), else `failed`; `announced` cleared.
local fields = redis.call('HMGET', KEYS[1], 'state', 'cancelled', 'unknown_provider')
if fields[2] == '1' or (fields[1] and fields[1] ~= '') then return 0 end
local state, reason = 'failed', ARGV[1]
if fields[3] and fields[3] ~= '' then state, reason = 'unknown', ARGV[2] end
redis.call('HSET', KEYS[1], 'state', state, 'reason', reason, 'user_id', ARGV[3], 'purpose', ARGV[4])
redis.call('HDEL', KEYS[1], 'announced')
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {state, reason}
