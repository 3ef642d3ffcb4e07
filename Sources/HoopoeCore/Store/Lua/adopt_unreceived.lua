-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Unreceived.swift.
-- Entries pending to this consumer after the last one its fetches received, delivered once: only an XREADGROUP '>'
-- delivers an entry for the first time, and every entry one delivers is newer than any an earlier one did. So these
-- came with a fetch whose reply was lost; nothing else of this worker's (a recovered job, delivered again; a job whose
-- acknowledgement failed, received already) is among them.
local out, gone, claim = {}, {}, {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], '0'}
for _, p in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], '+', ARGV[4], ARGV[2])) do
  if p[4] == 1 then
    local entry = redis.call('XRANGE', KEYS[1], p[1], p[1])[1]
    if entry then
      out[#out + 1] = entry
      claim[#claim + 1] = p[1]
    else
      gone[#gone + 1] = p[1]  -- deleted from the stream (cleared, cancelled): nothing left to run
    end
  end
end
-- Renewed here, in the same step (idle 0, the delivery count kept): another worker's recovery cannot take them between
-- this and the worker holding them.
if #claim > 5 then
  claim[#claim + 1] = 'JUSTID'
  redis.call(unpack(claim))
end
if #gone > 0 then redis.call('XACK', KEYS[1], ARGV[1], unpack(gone)) end
return {{KEYS[1], out}}
