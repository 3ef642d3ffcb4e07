-- Hoopoe, run_unlock (run by RunLock: a job run's lock, such as <ns>:{registration}:lock:<user_id>).
--
-- KEYS[1] lock · ARGV[1] holder (job id and attempt). Deletes the lock only if the holder still holds it.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
