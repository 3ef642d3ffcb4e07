-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Promotion.swift.
local t = redis.call('TIME')
if not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[2]) then return {-1, t[1], t[2]} end
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #ids == 0 then return {0, t[1], t[2]} end
local jobs = redis.call('HMGET', KEYS[2], unpack(ids))
for i, job in ipairs(jobs) do
  if job then redis.call('XADD', KEYS[3], '*', 'promoted', '1', 'job', job) end
end
redis.call('ZREM', KEYS[1], unpack(ids))
redis.call('HDEL', KEYS[2], unpack(ids))
if #ids == tonumber(ARGV[1]) then redis.call('DEL', KEYS[4]) end
return {#ids, t[1], t[2]}
