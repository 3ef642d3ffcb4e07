-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+CancelRequest.swift; cancel.lua is put before it.
-- A canceller's look at its request (decision 0089): the holder's answer, or `requested` while it may still come. An
-- unanswered request for an entry no longer pending (the job finished, or was handed back as a new entry) can get no
-- answer: it is removed and the reply is `gone`, so the canceller looks for the job again instead of waiting it out.
local state = redis.call('HGET', KEYS[1], ARGV[1])
if type(state) ~= 'string' or string.sub(state, 1, 10) ~= 'requested ' then return state end
if cancel_holder(KEYS[2], ARGV[2], ARGV[1]) then return 'requested' end
redis.call('HDEL', KEYS[1], ARGV[1])
return 'gone'
