-- What every cancel does once the job is out of its stream or scheduled set (cancel_ready, cancel_scheduled,
-- cancel_held), put after history.lua and before each by JobStore.cancelScript: one copy of the rule.

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
