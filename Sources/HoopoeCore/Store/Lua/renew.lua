-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Lease.swift.
local claim = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], '0'}
local taken = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] then
    if p[1][2] == ARGV[2] then claim[#claim + 1] = ARGV[i] else taken[#taken + 1] = ARGV[i] end
  end
end
if #claim > 5 then
  claim[#claim + 1] = 'JUSTID'
  redis.call(unpack(claim))
end
return taken
