-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Lease.swift.
-- The consumer's own deliveries, in one read (its pending list holds about what the worker holds).
local own = {}
for _, p in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', ARGV[3], ARGV[2])) do own[p[1]] = true end
local claim = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], '0'}
local taken, gone = {}, {}
for i = 4, #ARGV do
  if own[ARGV[i]] then
    claim[#claim + 1] = ARGV[i]
  else
    -- Settled meanwhile (no longer pending: `gone`), taken by another consumer, or beyond the read above.
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
    if p[1] then
      if p[1][2] == ARGV[2] then claim[#claim + 1] = ARGV[i] else taken[#taken + 1] = ARGV[i] end
    else
      gone[#gone + 1] = ARGV[i]
    end
  end
end
if #claim > 5 then
  claim[#claim + 1] = 'JUSTID'
  redis.call(unpack(claim))
end
return {taken, gone}
