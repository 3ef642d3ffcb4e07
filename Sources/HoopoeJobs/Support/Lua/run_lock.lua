-- Hoopoe, run_lock (run by RunLock: a job run's lock, such as <ns>:{registration}:lock:<user_id>).
--
-- KEYS[1] lock · ARGV[1] holder (job id and attempt) · ARGV[2] ms. Returns 1 when the holder holds the lock now, 0 when another does.
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
