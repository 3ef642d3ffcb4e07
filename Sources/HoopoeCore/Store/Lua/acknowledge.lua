-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Settle.swift.
local n = tonumber(ARGV[2])
local u = tonumber(ARGV[3])
local a = tonumber(ARGV[4])
if n > 0 then
  local ids = {unpack(ARGV, 6, 5 + n)}
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
  redis.call('XDEL', KEYS[1], unpack(ids))
end
local pos = 6 + n
for i = 3, 2 + u do
  if redis.call('GET', KEYS[i]) == ARGV[pos] then redis.call('DEL', KEYS[i]) end
  pos = pos + 1
end
for i = 3 + u, 2 + u + a do
  redis.call('LPUSH', KEYS[i], ARGV[pos])
  redis.call('EXPIRE', KEYS[i], ARGV[5])
  pos = pos + 1
end
local field = ARGV[pos]
pos = pos + 1
local total = 0
while pos < #ARGV do
  redis.call('HINCRBY', KEYS[2], field .. ':' .. ARGV[pos], ARGV[pos + 1])
  total = total + tonumber(ARGV[pos + 1])
  pos = pos + 2
end
if total > 0 then
  redis.call('HINCRBY', KEYS[2], field, total)
  redis.call('EXPIRE', KEYS[2], 7776000)
end
return n
