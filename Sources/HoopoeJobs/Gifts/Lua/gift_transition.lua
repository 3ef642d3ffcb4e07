-- Hoopoe gift state: one change of a gift's state, refused when its state forbids it (GiftStore.transition).
-- grant and reject only to a new gift; use and expire to a new or granted one. A change clears `emitted` (the new
-- state's event is still to be emitted) and refreshes the TTL.
--
-- KEYS[1] <ns>:{gifts}:gift:<user_gift_id>   hash: state, user_id, <state>_at, expires_at, queue, emitted, reason,
--                                            retry_after
-- ARGV[1] grant|use|expire|reject   ARGV[2] user_id   ARGV[3] now (Unix s)   ARGV[4] TTL s
-- ARGV[5] expires_at ("" unknown)   ARGV[6] queue ("" none)   ARGV[7] reason, ARGV[8] retry_after (reject: why, written
-- with the state, so a re-run after a failure between the two never announces a rejection without them)
--
-- Reply: {state before or "", state after, emitted ("1" or "")}
local state = redis.call('HGET', KEYS[1], 'state') or ''
local action = ARGV[1]
local after = state
if action == 'grant' or action == 'reject' then
  if state == '' then after = (action == 'grant') and 'granted' or 'rejected' end
elseif state == '' or state == 'granted' then
  after = (action == 'use') and 'used' or 'expired'
end
if after ~= state then
  redis.call('HSET', KEYS[1], 'state', after, 'user_id', ARGV[2], after .. '_at', ARGV[3])
  redis.call('HDEL', KEYS[1], 'emitted')
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'expires_at', ARGV[5]) end
  if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'queue', ARGV[6]) end
  if after == 'rejected' and ARGV[7] and ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'reason', ARGV[7], 'retry_after', ARGV[8]) end
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
return {state, after, redis.call('HGET', KEYS[1], 'emitted') or ''}
