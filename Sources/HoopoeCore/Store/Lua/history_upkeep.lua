-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Acknowledge.swift; history.lua is put before
-- it. After an acknowledgement whose records were written before its script (decision 0062): the older list entries
-- of jobs that finished again (the HSET's reply counted them), then the trims by age and count.
local seen = tonumber(ARGV[5])
local i = 6
while seen > 0 and i <= #ARGV do
  if history_unlist_older(KEYS[1], KEYS[3], ARGV[i]) > 0 then seen = seen - 1 end
  i = i + 1
end
local size = redis.call('LLEN', KEYS[1])
local aged = history_trim(KEYS[1], KEYS[2], KEYS[3], size, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1')
return {size, aged}
