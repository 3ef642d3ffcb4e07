-- KEYS and ARGV: see the Swift property that runs it, RedisLastTickStore.advanceScript.
local current = tonumber(redis.call('GET', KEYS[1]))
-- A value outside 0 to the end of the year 9999 is not a tick (RedisLastTickStore.latestTick): overwritten, as garbage is.
if current and (current < 0 or current > 253402300799) then current = nil end
local proposed = tonumber(ARGV[1])
if current == nil or proposed > current then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
