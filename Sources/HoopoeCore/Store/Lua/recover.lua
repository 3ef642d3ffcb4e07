-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Recovery.swift.
local out = {}
local cursor = '0-0'
for round = 1, 10 do
  local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], cursor, 'COUNT', ARGV[4])
  for _, entry in ipairs(r[2]) do
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
    local deliveries = 1
    if p[1] then deliveries = p[1][4] end
    out[#out + 1] = {entry[1], entry[2], deliveries}
  end
  cursor = r[1]
  if cursor == '0-0' or #out >= tonumber(ARGV[4]) then break end
end
return out
