-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Acknowledge.swift; history.lua is put before it.
-- The batch's history records are not here: they go in the HSET sent just before this script, in the same write
-- (decision 0062).
local n = tonumber(ARGV[2])
local u = tonumber(ARGV[3])
local a = tonumber(ARGV[4])
local h = tonumber(ARGV[8])
local consumer = ARGV[11]
local pos = 12
-- Whether stream entry id `a` is older than `b` (decimal "ms-seq" without leading zeros, compared exactly as text:
-- the longer number is the greater, or the later one in the same length).
local function entry_older(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if not (am and bm) then return false end
  if am ~= bm then return #am < #bm or (#am == #bm and am < bm) end
  return #as < #bs or (#as == #bs and as < bs)
end
-- The entries go (decision 0043): when the batch's newest (ARGV[9]) is older than the oldest entry still pending,
-- every entry before that one has been delivered and acknowledged, so one XTRIM MINID removes them, which costs less
-- than XDEL's search of each id in its stream node; otherwise (jobs finished out of order, other workers' older jobs
-- still running, nothing pending) XDEL removes exactly the batch's. Either way the stream keeps every entry pending
-- or not yet delivered, and no acknowledged one.
-- A job with a unique key or an answer, whose entry another worker holds now (this worker's lease lapsed and that one
-- recovered it, and runs it) or settled already: its outcome is that worker's. Acknowledged here, its lock went while
-- the other ran it (a duplicate accepted beside it) and its caller got two answers. Checked only for those jobs
-- (`consumer` given), so a plain job's settle costs nothing more; their entry ids follow their job ids and answers
-- below (decision 0106).
local foreign = {}
local anyForeign = false
if consumer ~= '' and u + a > 0 then
  local entries = {}
  for i = 0, u - 1 do entries[#entries + 1] = ARGV[pos + n + 2 * i + 1] end
  for i = 0, a - 1 do entries[#entries + 1] = ARGV[pos + n + 2 * u + 2 * i] end
  for _, e in ipairs(entries) do
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], e, e, 1)
    -- Another's, or no longer pending at all: settled by the worker that recovered it (its lock released, its
    -- caller answered), or by this worker's own earlier try of this call, whose reply was lost (then done already).
    if not p[1] or p[1][2] ~= consumer then
      foreign[e] = true
      anyForeign = true
    end
  end
end
local ids = {}
if n > 0 then
  ids = {unpack(ARGV, pos, pos + n - 1)}
  if anyForeign then
    local mine = {}
    for _, e in ipairs(ids) do if not foreign[e] then mine[#mine + 1] = e end end
    ids = mine
  end
end
if #ids > 0 then
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
  local oldest = ARGV[9] ~= '' and redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1)[1]
  if oldest and entry_older(ARGV[9], oldest[1]) then
    redis.call('XTRIM', KEYS[1], 'MINID', oldest[1])
  else
    redis.call('XDEL', KEYS[1], unpack(ids))
  end
end
pos = pos + n
-- A unique or answer key of another type (written by something else: `WRONGTYPE`) is passed over with pcall, not
-- raised: the entries are already acknowledged above, and an error here would lose the rest of the batch's answers,
-- its history list and its counts (Redis keeps a script's writes before an error). Its own job's caller waits in vain.
-- Each comes with its job's entry id (after the job id; before the answer).
for i = 6, 5 + u do
  if not foreign[ARGV[pos + 1]] and redis.pcall('GET', KEYS[i]) == ARGV[pos] then redis.call('DEL', KEYS[i]) end
  pos = pos + 2
end
for i = 6 + u, 5 + u + a do
  if not foreign[ARGV[pos]] and type(redis.pcall('LPUSH', KEYS[i], ARGV[pos + 1])) == 'number' then redis.call('EXPIRE', KEYS[i], ARGV[5]) end
  pos = pos + 2
end
-- Job history's list (decision 0033): the batch's ids in one LPUSH, in the same step as their acknowledgement, so
-- the list names only acknowledged jobs; then the count trim, once the list is over its cap by more than 1 %, which
-- spares the batch's own records. Whether this is the minute's first settle is returned: the caller runs the age
-- trim and the re-finish check after (JobStore.keepHistory, history_upkeep.lua).
if h > 0 then
  local size = redis.call('LPUSH', KEYS[4], unpack(ARGV, pos, pos + h - 1))
  local cap = tonumber(ARGV[10])
  if size > cap + math.floor(cap / 100) then
    -- Spared: the batch's ids whose new entry stays, the last `cap` pushed (a batch larger than the cap loses its first).
    local batch = {}
    for i = math.max(pos, pos + h - cap), pos + h - 1 do batch[ARGV[i]] = true end
    history_trim_count(KEYS[4], KEYS[5], size, cap, batch)
  end
  pos = pos + h
end
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
local newMinute = 0
if total > 0 and redis.call('HINCRBY', KEYS[3], ARGV[6] .. ':' .. field, total) == total then
  newMinute = 1
  redis.call('EXPIRE', KEYS[3], ARGV[7])
end
return {n, newMinute}
