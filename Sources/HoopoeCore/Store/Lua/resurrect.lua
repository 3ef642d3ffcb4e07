-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+DeadSet.swift.
-- The job is written to the stream before it leaves the dead set: Redis keeps a script's writes made before an error,
-- so an XADD refused (a key of the wrong type, OOM) must find the job still dead, not gone from both (as run_now.lua).
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
-- Dead again since the caller read it (another retry ran it, and it died anew): that death is the one to keep.
local record = redis.call('HGET', KEYS[2], ARGV[1])
if not record or redis.sha1hex(record) ~= ARGV[4] then return 0 end
-- Another job holds its unique key (enqueued since it died): both would run, which the key is there to prevent. It
-- stays dead until that job is done (or it is deleted).
if ARGV[3] ~= '' then
  local holder = redis.call('GET', KEYS[4])
  if holder and holder ~= ARGV[1] then return -1 end
end
redis.call('XADD', KEYS[3], '*', 'job', ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
-- A unique job takes its lock again (no other job holds it: checked above): its key is held while it waits, as at its
-- enqueue.
if ARGV[3] ~= '' then redis.call('SET', KEYS[4], ARGV[1], 'NX', 'EX', ARGV[3]) end
return 1
