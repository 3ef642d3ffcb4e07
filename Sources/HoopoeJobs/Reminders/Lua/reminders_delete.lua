-- Hoopoe expiration reminders, reminders_delete (run by SubscriptionStore). Every key carries the {reminders} hash tag.
--
-- Forgets a subscription: its pending reminders, and hands back its released `sms.send` jobs to cancel.
--
-- KEYS[1] sub:<user> · KEYS[2] due · KEYS[3] jobs:<user> · ARGV[1] user
-- Returns {existed (0/1), removed count, '<queue>|<id>'...}
local old = redis.call('HGET', KEYS[1], 'expires_at')
local result = {old and 1 or 0, 0}
if old then
  local offsets = redis.call('HGET', KEYS[1], 'offsets') or ''
  for o in string.gmatch(offsets, '[^,]+') do
    result[2] = result[2] + redis.call('ZREM', KEYS[2], o .. '|' .. old .. '|' .. ARGV[1])
  end
end
local jobs = redis.call('HGETALL', KEYS[3])
for i = 2, #jobs, 2 do table.insert(result, jobs[i]) end
redis.call('DEL', KEYS[1], KEYS[3])
return result
