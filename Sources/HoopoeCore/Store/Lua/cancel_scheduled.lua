-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Cancel.swift; history.lua is put before it.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
history_add(KEYS[6], KEYS[5], KEYS[4], {ARGV[1], ARGV[2]}, 1, 1)
if ARGV[3] ~= '' then
  -- pcall, as acknowledge.lua: an answer key of another type must not fail a cancel already made.
  redis.pcall('LPUSH', KEYS[7], ARGV[3])
  redis.pcall('EXPIRE', KEYS[7], ARGV[4])
end
return 1
