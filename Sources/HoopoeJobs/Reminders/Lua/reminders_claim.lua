-- Hoopoe expiration reminders, reminders_claim (run by SubscriptionStore). Every key carries the {reminders} hash tag.
--
-- Takes due reminders for one sweep: first claims whose lease ran out (a sweep that died), then reminders due
-- by the domain time. Moving a member from due to claimed is atomic, so two sweeps never take the same one.
--
-- With each reminder it takes the other offsets of the same (expiry, user) that are due too, or claimed by a sweep
-- whose lease ran out (ARGV[4...]: the offsets in days): after downtime one expiry's offsets 1 and 0 are both due, and
-- the sweep sends only the nearest. Taken in separate calls (a backlog over `max members`), each was the nearest of
-- its own call, and both went out.
--
-- First of all it takes back the claims of the job running it (KEYS[3]: member -> its claim's score) still unfinished:
-- the same sweep run again after it died mid-release (recovered within seconds, long before its claims' lease ran
-- out). Left for the lease, they waited for the next day's sweep, and an offset-0 reminder was then skipped as expired.
-- A claim another sweep took over since has another score, and is not taken back.
--
-- KEYS[1] due · KEYS[2] claimed · KEYS[3] claims:<job id> · ARGV[1] domain now (Unix s) · ARGV[2] max members ·
-- ARGV[3] lease seconds · ARGV[4...] offsets. Returns {Redis's time (Unix s), {members taken}}: a sweep that fails
-- retries once its claims' lease has run out. `max members` bounds the reminders it starts from; their due siblings
-- come on top.
local t = redis.call('TIME')
local real = tonumber(t[1])
local limit = tonumber(ARGV[2])
local out = {}
local taken = {}
local own = redis.call('HGETALL', KEYS[3])
for i = 1, #own - 1, 2 do
  if #out >= limit then break end
  local m = own[i]
  if redis.call('ZSCORE', KEYS[2], m) == own[i + 1] then
    table.insert(out, m)
    taken[m] = true
  else
    redis.call('HDEL', KEYS[3], m)
  end
end
if #out < limit then
  local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', real - tonumber(ARGV[3]), 'LIMIT', 0, limit - #out)
  for _, m in ipairs(stale) do
    if not taken[m] then
      table.insert(out, m)
      taken[m] = true
    end
  end
end
if #out < limit then
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, limit - #out)
  for _, m in ipairs(due) do
    redis.call('ZREM', KEYS[1], m)
    table.insert(out, m)
    taken[m] = true
  end
end
local now = tonumber(ARGV[1])
local stale = real - tonumber(ARGV[3])
local count = #out
for i = 1, count do
  local offset, rest = string.match(out[i], '^(%-?%d+)(|.*)$')
  if offset then
    for j = 4, #ARGV do
      local sibling = ARGV[j] .. rest
      if ARGV[j] ~= offset and not taken[sibling] then
        local due = tonumber(redis.call('ZSCORE', KEYS[1], sibling))
        -- A sibling a dead sweep claimed (its lease over) comes too: the stale claims are taken in member order, which
        -- puts one expiry's offsets far apart, and each went out as the nearest of its own call.
        local claimed = redis.call('ZSCORE', KEYS[2], sibling)
        local mine = claimed and redis.call('HGET', KEYS[3], sibling) == claimed
        if (due and due <= now) or (claimed and tonumber(claimed) <= stale) or mine then
          if due then redis.call('ZREM', KEYS[1], sibling) end
          taken[sibling] = true
          table.insert(out, sibling)
        end
      end
    end
  end
end
-- Every member taken is claimed now, and this job's.
for _, m in ipairs(out) do
  redis.call('ZADD', KEYS[2], real, m)
  redis.call('HSET', KEYS[3], m, tostring(real))
end
if #out > 0 then redis.call('EXPIRE', KEYS[3], 172800) end
return {real, out}
