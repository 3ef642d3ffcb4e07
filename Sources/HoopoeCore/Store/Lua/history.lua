-- Job history's writes (decision 0033), put before each script that adds or trims records (kill, the cancels,
-- history_upkeep) by JobStore.historyScript (the cancels' by JobStore.cancelScript): one copy of the layout's rules. The acknowledgement
-- writes its records with an HSET before its script and its ids in the script (decision 0062), and leaves the rest
-- to history_upkeep.
--   ids     LIST of job ids, newest first (history:ids)
--   records HASH job id -> record (history:jobs)
--   legacy  the SORTED SET of releases before decision 0033 (history): no longer written here, only emptied

-- Records `count` finished jobs, given as (id, record) pairs in `list` from index `first`: one HSET and one LPUSH.
-- HSET says how many ids were new; an id seen before (a dead job retried, a job run twice) has its older entry
-- removed from the list (and from the legacy set), so each id is listed once, as a sorted set would. HSET does not
-- say which ids those were, and each LREM scans the list, so the search stops once as many older entries were found
-- as HSET counted: a batch with one retried job among new ones no longer scans the list once per job. (Finding the
-- ids beforehand would cost an HMGET in every batch, and the commands a job are counted.)
-- Returns the list's length.
local function history_add(ids, records, legacy, list, first, count)
  local last = first + 2 * count - 1
  local added = redis.call('HSET', records, unpack(list, first, last))
  local order = {}
  for i = 1, count do order[i] = list[first + 2 * i - 2] end
  local seen = count - added
  local i = 1
  while seen > 0 and i <= count do
    local found = redis.call('LREM', ids, 0, order[i]) + redis.call('ZREM', legacy, order[i])
    if found > 0 then seen = seen - 1 end
    i = i + 1
  end
  return redis.call('LPUSH', ids, unpack(order))
end

-- For a settle that wrote its records before looking (decision 0062: the acknowledgement's HSET and LPUSH come first):
-- removes every list entry of `id` but the newest (the one at the head, just pushed), and its legacy entry.
-- `LPOS ... COUNT 0` finds them all in one scan; called only for a batch in which HSET found an id already there.
-- Returns how many kinds of older entry it found (list, legacy): above 0 when `id` had finished before.
local function history_unlist_older(ids, legacy, id)
  local found = redis.call('ZREM', legacy, id)
  local at = redis.call('LPOS', ids, id, 'COUNT', 0)
  if #at > 1 then
    redis.call('LREM', ids, 1 - #at, id)
    found = found + 1
  end
  return found
end

-- The count trim: once the list is over `cap` by more than 1 %, its oldest entries down to the cap (at most 1000 a
-- call) and their records, but not the records of the ids in `spare` (a set, or nil): the acknowledgement passes its
-- batch's ids whose new entries stay listed, whose records it has just written and whose older entries, if they
-- finished before, may be among the oldest (those entries go, the records stay; decision 0062). Returns the list's
-- length after it.
local function history_trim_count(ids, records, size, cap, spare)
  if size <= cap + math.floor(cap / 100) then return size end
  local extra = math.min(size - cap, 1000)
  local popped = redis.call('RPOP', ids, extra)
  if spare then
    local gone = {}
    for _, id in ipairs(popped) do
      if not spare[id] then gone[#gone + 1] = id end
    end
    popped = gone
  end
  if #popped > 0 then redis.call('HDEL', records, unpack(popped)) end
  return size - extra
end

-- Removes the records that finished before `cutoff` (Unix s) from the old end of the list, at most 1000: the list
-- holds ids only, so the age is the record's `finished_at`, read 100 records at a time. A record that is missing or
-- unreadable goes too. The oldest alone is read first: when it is young (most calls: every worker makes one a queue
-- a minute, decision 0088) that is one record read, not 100. Returns how many went.
local function history_trim_age(ids, records, cutoff)
  local last = redis.call('LINDEX', ids, -1)
  if not last then return 0 end
  local body = redis.call('HGET', records, last)
  local at = body and tonumber(string.match(body, '"finished_at":(%-?[%d%.]+)'))
  if at and at >= cutoff then return 0 end
  local removed = 0
  while removed < 1000 do
    local oldest = redis.call('LRANGE', ids, -100, -1)
    if #oldest == 0 then break end
    local bodies = redis.call('HMGET', records, unpack(oldest))
    local old = 0
    for i = #oldest, 1, -1 do
      local at = bodies[i] and tonumber(string.match(bodies[i], '"finished_at":(%-?[%d%.]+)'))
      if at and at >= cutoff then break end
      old = old + 1
    end
    if old == 0 then break end
    redis.call('HDEL', records, unpack(redis.call('RPOP', ids, old)))
    removed = removed + old
    if old < #oldest then break end
  end
  return removed
end

-- Empties the legacy sorted set that workers of an older release may still be adding to during a rolling upgrade:
-- its records past the age cap, then its oldest beyond what the cap leaves room for beside the list (`room`), at
-- most 1000 each a call (with the age trim: once a minute). A set that is gone costs one EXISTS.
local function history_drain_legacy(legacy, records, cutoff, room)
  if redis.call('EXISTS', legacy) == 0 then return end
  local old = redis.call('ZRANGEBYSCORE', legacy, '-inf', cutoff, 'LIMIT', 0, 1000)
  if #old > 0 then
    redis.call('HDEL', records, unpack(old))
    redis.call('ZREM', legacy, unpack(old))
  end
  local extra = math.min(redis.call('ZCARD', legacy) - math.max(room, 0), 1000)
  if extra > 0 then
    redis.call('HDEL', records, unpack(redis.call('ZRANGE', legacy, 0, extra - 1)))
    redis.call('ZREMRANGEBYRANK', legacy, 0, extra - 1)
  end
end

-- Keeps the history within its caps (JobStore.HistoryLimits): by age when `byAge` (and the legacy set with it), and
-- by count once the list is over `cap` by more than 1 % (down to the cap, at most 1000 a call). `size` is the list's
-- length after the add.
-- Returns how many records the age trim removed (1000: there may be more past the age cap).
local function history_trim(ids, records, legacy, size, cap, maxAge, now, byAge)
  local cutoff = now - maxAge
  local aged = 0
  if byAge then aged = history_trim_age(ids, records, cutoff) end
  size = history_trim_count(ids, records, size - aged, cap, nil)
  if byAge then history_drain_legacy(legacy, records, cutoff, cap - size) end
  return aged
end
