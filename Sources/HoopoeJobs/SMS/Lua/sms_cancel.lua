-- Hoopoe SMS ledger, sms_cancel (run by SMSLedger.cancel). Every key carries the {sms} hash tag.
--
-- Cancels a message: `state` becomes `cancelled` unless it has one, and `cancelled` is set either way (a re-send planned
-- for a bulk IPPanel ends unsent must not go out). Says it stopped the message only when no send of it is marked as under
-- way (sms_mark_sending.lua): a run past that mark may still send it, and a send whose answer was lost may have gone.
--
-- KEYS[1] `{sms}:msg:<id>` · ARGV[1] reason · ARGV[2] the record's TTL (s)
-- Returns 1 when the message will not be sent, 0 otherwise.
local set = redis.call('HSETNX', KEYS[1], 'state', 'cancelled')
redis.call('HSET', KEYS[1], 'cancelled', '1')
redis.call('EXPIRE', KEYS[1], ARGV[2])
if set == 0 then return 0 end
redis.call('HSET', KEYS[1], 'reason', ARGV[1])
if redis.call('HEXISTS', KEYS[1], 'unknown_provider') == 1 then return 0 end
return 1
