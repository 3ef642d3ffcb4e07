-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Settle.swift.
local ids = {}
for i = 2, #ARGV, 3 do
  if ARGV[i + 1] == '1' then
    redis.call('XADD', KEYS[1], '*', 'promoted', '1', 'job', ARGV[i + 2])
  else
    redis.call('XADD', KEYS[1], '*', 'job', ARGV[i + 2])
  end
  ids[#ids + 1] = ARGV[i]
end
if #ids > 0 then
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
  redis.call('XDEL', KEYS[1], unpack(ids))
end
return #ids
