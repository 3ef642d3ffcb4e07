-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Consumers.swift.
-- Deletes the queue's consumers that hold no delivery and have been idle for ARGV[2] ms: a consumer with pending
-- entries is never deleted (XGROUP DELCONSUMER drops them from the pending list: they would never run again), and
-- the check and the deletion are one step. pcall throughout: an ACL without XINFO or XGROUP must not stop a worker.
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if not ok then return -1 end
local idle_ms = tonumber(ARGV[2])
local deleted = 0
for _, consumer in ipairs(consumers) do
  local name, pending, idle
  for i = 1, #consumer - 1, 2 do
    local field = consumer[i]
    if field == 'name' then name = consumer[i + 1]
    elseif field == 'pending' then pending = consumer[i + 1]
    elseif field == 'idle' then idle = consumer[i + 1] end
  end
  if name and pending == 0 and idle and idle >= idle_ms then
    local removed = redis.pcall('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    if type(removed) == 'number' then deleted = deleted + 1 end
  end
end
return deleted
