-- Hoopoe expiration reminders, reminders_delete (run by SubscriptionStore). Every key carries the {reminders} hash tag.
--
-- Forgets a subscription and its pending reminders, and hands back its released jobs to cancel. The released
-- entries stay until the caller has cancelled them and forgets them (SubscriptionStore.forgetReleased), so a retry
-- after a crash between this script and the cancels cancels them still.
--
-- The deleting job and what it removed are kept a day (KEYS[4], a hash: job, removed, and cancelled once its cancels
-- are counted: reminders_count_cancelled.lua): the same job run again (its event write failed) gets its first run's
-- answer back, not existed 0.
--
-- KEYS[1] sub:<user> · KEYS[2] due · KEYS[3] jobs:<user> · KEYS[4] deleted:<user> · ARGV[1] user · ARGV[2] job id
-- Returns {existed (0/1), removed count, field, '<queue>|<id>[|<message id>]', ...}
local old = redis.call('HGET', KEYS[1], 'expires_at')
local result = {old and 1 or 0, 0}
if old then
  local offsets = redis.call('HGET', KEYS[1], 'offsets') or ''
  for o in string.gmatch(offsets, '[^,]+') do
    result[2] = result[2] + redis.call('ZREM', KEYS[2], o .. '|' .. old .. '|' .. ARGV[1])
  end
  redis.call('DEL', KEYS[4])
  redis.call('HSET', KEYS[4], 'job', ARGV[2], 'removed', result[2], 'cancelled', 0)
  redis.call('EXPIRE', KEYS[4], 86400)
else
  local mark = redis.call('HMGET', KEYS[4], 'job', 'removed')
  if mark[1] == ARGV[2] then result = {1, tonumber(mark[2]) or 0} end
end
local jobs = redis.call('HGETALL', KEYS[3])
for i = 1, #jobs do table.insert(result, jobs[i]) end
redis.call('DEL', KEYS[1])
return result
