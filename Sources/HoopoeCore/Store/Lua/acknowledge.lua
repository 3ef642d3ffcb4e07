-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Settle.swift; history.lua is put before it.
local n = tonumber(ARGV[2])
local u = tonumber(ARGV[3])
local a = tonumber(ARGV[4])
local h = tonumber(ARGV[8])
local pos = 13
-- Whether stream entry id `a` is older than `b` (decimal "ms-seq" without leading zeros, compared exactly as text:
-- the longer number is the greater, or the later one in the same length).
local function entry_older(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if not (am and bm) then return false end
  if am ~= bm then return #am < #bm or (#am == #bm and am < bm) end
  return #as < #bs or (#as == #bs and as < bs)
end
-- The entries go (decision 0043): when the batch's newest (ARGV[12]) is older than the oldest entry still pending,
-- every entry before that one has been delivered and acknowledged, so one XTRIM MINID removes them, which costs less
-- than XDEL's search of each id in its stream node; otherwise (jobs finished out of order, other workers' older jobs
-- still running, nothing pending) XDEL removes exactly the batch's. Either way the stream keeps every entry pending
-- or not yet delivered, and no acknowledged one.
if n > 0 then
  local ids = {unpack(ARGV, pos, pos + n - 1)}
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
  local oldest = ARGV[12] ~= '' and redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1)[1]
  if oldest and entry_older(ARGV[12], oldest[1]) then
    redis.call('XTRIM', KEYS[1], 'MINID', oldest[1])
  else
    redis.call('XDEL', KEYS[1], unpack(ids))
  end
end
pos = pos + n
for i = 7, 6 + u do
  if redis.call('GET', KEYS[i]) == ARGV[pos] then redis.call('DEL', KEYS[i]) end
  pos = pos + 1
end
for i = 7 + u, 6 + u + a do
  redis.call('LPUSH', KEYS[i], ARGV[pos])
  redis.call('EXPIRE', KEYS[i], ARGV[5])
  pos = pos + 1
end
local records = pos
pos = pos + 2 * h
-- Counters (decision 0033): per type for the day, and the batch for the minute; the day's and the hour's totals are
-- those summed when read. A key's TTL is set when one of its fields is new, not on every call.
local field = ARGV[pos]
pos = pos + 1
local total = 0
while pos < #ARGV do
  local count = tonumber(ARGV[pos + 1])
  if redis.call('HINCRBY', KEYS[2], field .. ':' .. ARGV[pos], count) == count then redis.call('EXPIRE', KEYS[2], 7776000) end
  total = total + count
  pos = pos + 2
end
local newMinute = false
if total > 0 then
  newMinute = redis.call('HINCRBY', KEYS[3], ARGV[6] .. ':' .. field, total) == total
  if newMinute then redis.call('EXPIRE', KEYS[3], ARGV[7]) end
end
-- Job history (decisions 0028, 0033): the batch's records in one HSET and one LPUSH, whose reply is the length the
-- count trim needs. That trim runs once the history is over its cap by more than 1 %, the age trim at the first
-- settle of a minute: each trim's fixed cost is paid once per many jobs instead of once per batch.
if h > 0 then
  local size = history_add(KEYS[4], KEYS[5], KEYS[6], ARGV, records, h)
  history_trim(KEYS[4], KEYS[5], KEYS[6], size, tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), newMinute)
end
return n
