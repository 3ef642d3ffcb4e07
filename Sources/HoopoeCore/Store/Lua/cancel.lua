-- The cancels' shared steps (cancel_ready, cancel_scheduled, and decision 0089's cancel_request, cancel_poll and
-- cancel_held), put after history.lua and before each by JobStore.cancelScript: one copy of each rule.

-- The consumer stream entry `entry` is pending to, nil when it is not pending (or the group does not exist yet).
local function cancel_holder(stream, group, entry)
  local p = redis.pcall('XPENDING', stream, group, entry, entry, 1)
  if type(p) == 'table' and p[1] then return p[1][2] end
  return nil
end

-- Redis's clock, in whole milliseconds: a request's deadline is written and read by it.
local function cancel_now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Releases `unique` if job `id` holds it, records the job in the history (`record`; '' for none) and pushes its
-- `notify` answer (`answer`; '' for none) to `answerKey` for `ttl` seconds. Under pcall where a key of another type must
-- not fail a cancel already made (as in acknowledge.lua).
local function cancel_finish(unique, id, ids, records, legacy, record, answerKey, answer, ttl)
  if redis.pcall('GET', unique) == id then redis.pcall('DEL', unique) end
  if record ~= '' then history_add(ids, records, legacy, {id, record}, 1, 1) end
  if answer ~= '' then
    redis.pcall('LPUSH', answerKey, answer)
    redis.pcall('EXPIRE', answerKey, ttl)
  end
end
