-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+CancelRequest.swift; history.lua and cancel.lua are
-- put before it.
-- A worker's periodic read of a queue's cancel requests (decision 0089): the entries whose cancel is requested and not
-- yet answered. A request more than ARGV[1] ms past its deadline is removed here: its canceller withdraws it at its
-- deadline, so one still there died waiting, and no holder acts on it. Left, it stayed: every new request raises the
-- hash's TTL (cancel_request.lua), so on a queue cancelled in at least once a minute the hash never lapsed and such
-- requests piled up. A quiet queue's missing hash costs one HGETALL, as before.
local all = redis.call('HGETALL', KEYS[1])
if #all == 0 then return all end
local grace = tonumber(ARGV[1])
local now = nil
local requested = {}
for i = 1, #all, 2 do
  local state = all[i + 1]
  if string.sub(state, 1, 9) == 'requested' then
    local deadline = tonumber(string.match(state, '^requested (%d+)$'))
    if deadline and not now then now = cancel_now_ms() end
    if deadline and now > deadline + grace then
      redis.call('HDEL', KEYS[1], all[i])
    else
      table.insert(requested, all[i])
    end
  end
end
return requested
