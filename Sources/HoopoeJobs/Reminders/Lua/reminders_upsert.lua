-- Hoopoe expiration reminders, reminders_upsert (run by SubscriptionStore). Every key carries the {reminders} hash tag.
--
-- Records a subscription; on a new expiry (a renewal) drops the old expiry's pending reminders. Hands back every
-- released job of an expiry other than the current one, to cancel, on every call: the entries stay until the caller
-- has cancelled them and forgets them (SubscriptionStore.forgetReleased), so a retry after a crash between this
-- script and the cancels cancels them still.
--
-- KEYS[1] sub:<user> · KEYS[2] due · KEYS[3] jobs:<user>
-- ARGV[1] user · ARGV[2] expires_at · ARGV[3] phone · ARGV[4] first_name · ARGV[5] plan · ARGV[6] receipt_id
-- ARGV[7] updated_at · ARGV[8] TTL seconds · ARGV[9] email ('' for none) · ARGV[10] the upserting job's id ·
-- ARGV[11..] offset, due score pairs
-- Returns {'same'|'new'|'renewed', old expires_at or '', removed count, field, '<queue>|<id>[|<message id>]', ...}
--
-- The job that recorded a new expiry is remembered with its outcome (upsert_job, upsert_outcome, upsert_previous,
-- upsert_removed, and upsert_cancelled once its cancels are counted: reminders_count_cancelled.lua): the same job run
-- again (its event write failed) gets that outcome back, not 'same', so the subscription.upserted it writes then says
-- what happened.
local old = redis.call('HGET', KEYS[1], 'expires_at')
local oldOffsets = redis.call('HGET', KEYS[1], 'offsets') or ''
redis.call('HSET', KEYS[1], 'phone', ARGV[3], 'first_name', ARGV[4], 'plan', ARGV[5], 'receipt_id', ARGV[6],
  'updated_at', ARGV[7], 'email', ARGV[9])
local result
if old == ARGV[2] then
  local mine = redis.call('HMGET', KEYS[1], 'upsert_job', 'upsert_outcome', 'upsert_previous', 'upsert_removed')
  if mine[1] == ARGV[10] and mine[2] then
    result = {mine[2], mine[3] or '', tonumber(mine[4]) or 0}
  else
    result = {'same', old, 0}
  end
else
  result = {old and 'renewed' or 'new', old or '', 0}
  if old then
    local removed = 0
    for o in string.gmatch(oldOffsets, '[^,]+') do
      removed = removed + redis.call('ZREM', KEYS[2], o .. '|' .. old .. '|' .. ARGV[1])
    end
    result[3] = removed
  end
  local scheduled = {}
  for i = 11, #ARGV, 2 do
    redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i] .. '|' .. ARGV[2] .. '|' .. ARGV[1])
    table.insert(scheduled, ARGV[i])
  end
  redis.call('HSET', KEYS[1], 'expires_at', ARGV[2], 'offsets', table.concat(scheduled, ','),
    'upsert_job', ARGV[10], 'upsert_outcome', result[1], 'upsert_previous', result[2], 'upsert_removed', result[3],
    'upsert_cancelled', 0)
end
redis.call('EXPIRE', KEYS[1], ARGV[8])
local jobs = redis.call('HGETALL', KEYS[3])
for i = 1, #jobs, 2 do
  if string.sub(jobs[i], 1, #ARGV[2] + 1) ~= ARGV[2] .. '|' then
    table.insert(result, jobs[i])
    table.insert(result, jobs[i + 1])
  end
end
return result
