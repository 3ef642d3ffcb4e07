-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Cancel.swift; history.lua is put before it.
local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if type(p) == 'table' and p[1] then return -1 end  -- an error (no group yet) means no worker holds it
local n = redis.call('XDEL', KEYS[1], ARGV[2])
if n == 1 and redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
if n == 1 then history_add(KEYS[5], KEYS[4], KEYS[3], {ARGV[3], ARGV[4]}, 1, 1) end
if n == 1 and ARGV[5] ~= '' then
  -- pcall, as acknowledge.lua: an answer key of another type must not fail a cancel already made.
  redis.pcall('LPUSH', KEYS[6], ARGV[5])
  redis.pcall('EXPIRE', KEYS[6], ARGV[6])
end
return n
