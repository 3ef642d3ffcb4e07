-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Recovery.swift.
-- The recovery clock: a gap since the last round on this queue (by any worker, by Redis's clock) longer than the
-- rounds' own means Redis was not answering (or no worker was there). Idle time grew meanwhile with nobody able to
-- renew, so for a grace period after it that excess is added to the lease (decision 0032).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local clock = redis.call('HMGET', KEYS[2], 'last', 'extra', 'until')
local last, extra, graceEnd = tonumber(clock[1]), tonumber(clock[2]) or 0, tonumber(clock[3]) or 0
if now >= graceEnd then extra = 0 end
if last and now - last > tonumber(ARGV[5]) then
  extra = extra + (now - last - tonumber(ARGV[5]))
  graceEnd = now + tonumber(ARGV[6])
end
redis.call('HSET', KEYS[2], 'last', now, 'extra', extra, 'until', graceEnd)
redis.call('PEXPIRE', KEYS[2], 3600000)
-- A recovered run's mark is read only when its entry is recovered again, and only a pending entry is: once the entry
-- was settled, handed back or buried its mark is dead weight. A few marks a round, picked at random, are checked and
-- the dead ones removed, so the hash holds about the recovered jobs still held rather than every one ever recovered
-- (its TTL alone never ends while recoveries keep coming). A field that is not an entry id is removed too.
local dead = {}
for _, id in ipairs(redis.call('HRANDFIELD', KEYS[3], 16)) do
  local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if p.err or not p[1] then dead[#dead + 1] = id end
end
if #dead > 0 then redis.call('HDEL', KEYS[3], unpack(dead)) end
local out = {}
if tonumber(ARGV[4]) < 1 then return out end
local cursor = '0-0'
for round = 1, 10 do
  -- COUNT is the room left, not the whole room: a round that claimed some and found more cursor to walk then claimed the
  -- whole room again, and one call took up to twice what the worker's buffer has room for (decision 0071).
  local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]) + extra, cursor, 'COUNT', tonumber(ARGV[4]) - #out)
  for _, entry in ipairs(r[2]) do
    -- Redis 6.2 gives false for a pending entry deleted from the stream (7.0 drops it from the pending list instead):
    -- nothing to run, and indexing it would fail every round on this queue.
    if entry then
      local p = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
      local deliveries = 1
      if p[1] then deliveries = p[1][4] end
      -- The runs started after an earlier recovery whose worker was then lost (decision 0079).
      local started = tonumber(redis.call('HGET', KEYS[3], entry[1])) or 0
      out[#out + 1] = {entry[1], entry[2], deliveries, started}
    end
  end
  cursor = r[1]
  if cursor == '0-0' or #out >= tonumber(ARGV[4]) then break end
end
return out
