-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Settle.swift.
-- Only an entry still pending to this worker (ARGV[2]) is handed back: one another worker recovered meanwhile is
-- that worker's, and a second run of this call (its reply lost, or tried again after Redis was unreachable) finds
-- its entries handed back already. An empty envelope means the entry's own, copied as stored (its bytes kept).
local ids = {}
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  if #redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1, ARGV[2]) == 1 then
    local envelope = ARGV[i + 2]
    if envelope == '' then
      local entry = redis.call('XRANGE', KEYS[1], id, id)[1]
      if entry then
        local fields = entry[2]
        for f = 1, #fields - 1, 2 do
          if fields[f] == 'job' then envelope = fields[f + 1] end
        end
      end
    end
    -- An entry deleted while pending (a queue's clear) has nothing to hand back: it is only acknowledged.
    if envelope ~= '' then
      if ARGV[i + 1] == '1' then
        redis.call('XADD', KEYS[1], '*', 'promoted', '1', 'job', envelope)
      else
        redis.call('XADD', KEYS[1], '*', 'job', envelope)
      end
    end
    ids[#ids + 1] = id
  end
end
if #ids > 0 then
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
  redis.call('XDEL', KEYS[1], unpack(ids))
end
return #ids
