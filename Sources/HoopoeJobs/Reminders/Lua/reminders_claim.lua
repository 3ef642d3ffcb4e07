-- Hoopoe expiration reminders, reminders_claim (run by SubscriptionStore). Every key carries the {reminders} hash tag.
--
-- Takes due reminders for one sweep: first claims whose lease ran out (a sweep that died), then reminders due
-- by the domain time. Moving a member from due to claimed is atomic, so two sweeps never take the same one.
--
-- KEYS[1] due · KEYS[2] claimed · ARGV[1] domain now (Unix s) · ARGV[2] max members · ARGV[3] lease seconds
-- Returns {Redis's time (Unix s), {members taken}}: a sweep that fails retries once its claims' lease has run out.
local t = redis.call('TIME')
local real = tonumber(t[1])
local limit = tonumber(ARGV[2])
local out = {}
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', real - tonumber(ARGV[3]), 'LIMIT', 0, limit)
for _, m in ipairs(stale) do
  redis.call('ZADD', KEYS[2], real, m)
  table.insert(out, m)
end
if #out < limit then
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, limit - #out)
  for _, m in ipairs(due) do
    redis.call('ZREM', KEYS[1], m)
    redis.call('ZADD', KEYS[2], real, m)
    table.insert(out, m)
  end
end
return {real, out}
