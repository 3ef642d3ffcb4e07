-- Hoopoe SMS ledger, sms_apply_status (run by SMSLedger). Every key carries the {sms} hash tag: one Redis Cluster slot.
--
-- Records one poll's result for one message: state, raw status, poll count; then the next poll time, or out
-- of the poll set (and without the payload an IPPanel send keeps) when the state is final.
--
-- KEYS[1] `{sms}:msg:<id>` · KEYS[2] `{sms}:poll` · KEYS[3] `{sms}:status_unannounced` (a change is added, scored by
-- ARGV[6], until its `sms.status` is on the stream: a poll whose event write failed left it unannounced for good, the
-- message out of the poll set once final)
-- ARGV[1] message id · ARGV[2] state · ARGV[3] raw status · ARGV[4] `1` when final · ARGV[5] next poll time
-- ARGV[6] now · ARGV[7] `1` to count a poll · ARGV[8] the provider ids polled ('' when none was asked)
-- Returns 1 when the state changed (the caller emits `sms.status`), 0 when not, -1 when the message is unknown, -2
-- when its provider ids are no longer the ones polled (sent again meanwhile: the new send's poll decides).
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return -1
end
if ARGV[8] ~= '' and redis.call('HGET', KEYS[1], 'provider_ids') ~= ARGV[8] then return -2 end
local old = redis.call('HGET', KEYS[1], 'delivery')
if ARGV[7] == '1' then redis.call('HINCRBY', KEYS[1], 'polls', 1) end
redis.call('HSET', KEYS[1], 'delivery', ARGV[2], 'raw_status', ARGV[3], 'polled_at', ARGV[6])
if ARGV[4] == '1' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  -- An IPPanel send's payload (and a phone number with it) is kept only while its bulk may end unsent.
  redis.call('HDEL', KEYS[1], 'payload', 'queue')
else
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
end
if old ~= ARGV[2] then
  if KEYS[3] then redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1]) end
  return 1
end
return 0
