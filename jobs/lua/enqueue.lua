local limit = tonumber(ARGV[6]) or 0
if limit > 0 and #ARGV[1] > limit then
  return redis.error_reply('HOOPOE too large: the envelope is ' .. #ARGV[1] .. ' bytes, the limit is ' .. limit)
end
if ARGV[4] ~= '' then
  if not redis.call('SET', KEYS[4], ARGV[2], 'NX', 'EX', ARGV[4]) then
    return {'duplicate', redis.call('GET', KEYS[4]) or ''}
  end
end
if ARGV[5] ~= '' then
  if not redis.call('SET', KEYS[5], ARGV[2], 'NX', 'EX', ARGV[5]) then
    if ARGV[4] ~= '' then redis.call('DEL', KEYS[4]) end
    return {'once', redis.call('GET', KEYS[5]) or ''}
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local runAt = tonumber(ARGV[3]) or 0
if runAt > now then
  redis.call('ZADD', KEYS[2], runAt, ARGV[2])
  redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])
  return {'scheduled', ARGV[2]}
end
redis.call('XADD', KEYS[1], '*', 'job', ARGV[1])
return {'enqueued', ARGV[2]}
