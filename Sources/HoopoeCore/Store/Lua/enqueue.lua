local limit = tonumber(ARGV[6]) or 0
if limit <= 0 or limit > 524288 then limit = 524288 end
local runAt = tonumber(ARGV[3]) or 0
if runAt ~= runAt or runAt >= 1e11 then
  return redis.error_reply('HOOPOE run_at (ARGV[3]) must be Unix seconds below 1e11, got ' .. ARGV[3] .. ': milliseconds?')
end
-- The lock and once-key lifetimes, checked before anything is written: Redis keeps a script's writes made before an
-- error, and a lock taken before a refused once-key held its key for a day with no job behind it.
for i = 4, 5 do
  if ARGV[i] ~= '' and (not string.find(ARGV[i], '^%d+$') or tonumber(ARGV[i]) < 1 or tonumber(ARGV[i]) > 1e9) then
    return redis.error_reply('HOOPOE ARGV[' .. i .. '] must be whole seconds from 1 to 1000000000, or empty; got ' .. ARGV[i])
  end
end
local body = ARGV[1]
if ARGV[4] ~= '' then
  local base = string.sub(KEYS[1], 1, -8) .. ':unique:'
  if string.sub(KEYS[4], 1, #base) ~= base or #KEYS[4] == #base then
    return redis.error_reply('HOOPOE KEYS[4] must be ' .. base .. '<unique key>')
  end
  local key = string.sub(KEYS[4], #base + 1)
  local ok, doc = pcall(cjson.decode, body)
  if not ok or type(doc) ~= 'table' or not string.find(body, '^%s*{') then
    return redis.error_reply('HOOPOE the envelope (ARGV[1]) is not a JSON object')
  end
  if type(doc.unique_key) == 'string' then
    if doc.unique_key ~= key then
      return redis.error_reply('HOOPOE the envelope says unique_key ' .. cjson.encode(doc.unique_key) .. ' but KEYS[4] is the lock of ' .. cjson.encode(key))
    end
  else
    local open = string.find(body, '{', 1, true)
    local rest = string.sub(body, open + 1)
    local sep = ','
    if string.find(rest, '^%s*}') then sep = '' end
    body = string.sub(body, 1, open) .. '"unique_key":' .. cjson.encode(key) .. sep .. rest
  end
end
if #body > limit then
  return redis.error_reply('HOOPOE too large: the envelope is ' .. #body .. ' bytes, the limit is ' .. limit)
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
-- A write Redis refuses (a key of another type) gives back the keys this call took before returning its error.
local function refused(reply)
  if ARGV[5] ~= '' then redis.call('DEL', KEYS[5]) end
  if ARGV[4] ~= '' then redis.call('DEL', KEYS[4]) end
  return reply
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
if runAt > now then
  local added = redis.pcall('ZADD', KEYS[2], runAt, ARGV[2])
  if type(added) == 'table' and added.err then return refused(added) end
  local stored = redis.pcall('HSET', KEYS[3], ARGV[2], body)
  if type(stored) == 'table' and stored.err then
    redis.call('ZREM', KEYS[2], ARGV[2])
    return refused(stored)
  end
  return {'scheduled', ARGV[2]}
end
local entry = redis.pcall('XADD', KEYS[1], '*', 'job', body)
if type(entry) == 'table' and entry.err then return refused(entry) end
return {'enqueued', ARGV[2]}
