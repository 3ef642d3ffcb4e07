-- KEYS and ARGV: see the Swift property that runs it, RedisLastTickStore.advanceScript.
local current = tonumber(redis.call('GET', KEYS[1]))
local proposed = tonumber(ARGV[1])
if current == nil or proposed > current then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
